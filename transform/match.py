"""Rows → located table rows: which template item (or header, or 表四 row) each raw row
is. Matching is by label, never by position: the longest label variant contained in the
row's label wins; typos fall back to similarity with the next expected items, in
template order. `Locator` holds the steps; 表四's own rows are `t4.py`'s."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

from extract.models import RawCell, RawDocument, RawRow

from .normalize import norm, strip_enumeration
from .numbers import is_blank, looks_numeric
from .t4 import T4Found, T4Scan
from .templates import TableSpec, Templates
from .tidy import as_value

_LAST_ENUM = re.compile(r"[(（][一二三四五六七八九十]+[)）]|\d+[.．、]")
_HEADER_UNIT = re.compile(r"(?:金额|收费)[^()（）]{0,6}[(（](?:单位[:：])?(万元|元)[)）]|单位[:：](万元|元)")
MAX_LABEL = 160
"""A longer label is narrative: not matched, not a header."""
WRAP_MAX = 40
"""A value-less line up to this long may be the first line of a wrapped label."""
FUZZY_MIN = 0.75
"""Least similarity for a typo to match a label variant."""


@dataclass(slots=True)
class Row:
    raw: RawRow
    table_index: int
    label: str
    values: list[RawCell]
    value_offset: int
    """Index of the first value cell within raw.cells (provenance)."""
    has_number: bool


@dataclass(slots=True)
class ItemRow:
    table: str
    item: str
    row: Row
    header: dict[str, float] = field(default_factory=dict)
    """Column code → x-center of its header cell, where the format has geometry."""
    fuzzy: bool = False
    unit: str | None = None
    """The unit an amount column's printed header names (元 / 万元), if any."""
    exact: frozenset[str] = frozenset()
    """Codes whose header cell carries exactly one of the column's labels."""


def header_unit(label: str) -> str | None:
    """`采购总金额（单位：元）` → 元; `（万元）` → 万元; `采购总金额 单位：元` → 元; no unit → None."""
    m = _HEADER_UNIT.search(label)
    return (m.group(1) or m.group(2)) if m else None


@dataclass(slots=True)
class Located:
    t2_version: str | None
    items: dict[tuple[str, str], ItemRow] = field(default_factory=dict)
    t4: T4Found = field(default_factory=T4Found)
    """What was printed of 表四 (see t4.py)."""
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    """(table, item) of rows matching an item already seen: the second row is not read
    (several reports in one document?)."""


def split_row(raw: RawRow, table_index: int) -> Row:
    """Label = the text cells up to the last non-numeric cell; values = the cells after it.
    A value cell merged down from a row above (`RawCell.above`, HTML rowspan, DOCX vMerge)
    is this row's value cell too, with that cell's text and row count (`tidy.as_value`;
    `tidy.merged_number` says when it is no one row's); in the label the stand-in stays empty (a group label
    such as （三）不予公开 spans the rows of its items)."""
    last_text = -1
    for k, c in enumerate(raw.cells):
        if c.text and not looks_numeric(c.text):
            last_text = k
    label = norm("".join(c.text for c in raw.cells[: last_text + 1]))
    values = [as_value(c) for c in raw.cells[last_text + 1 :]]
    has_number = any(c.text and not is_blank(c.text) for c in values)
    return Row(raw, table_index, label, values, last_text + 1, has_number)


def iter_rows(doc: RawDocument):
    for t in doc.tables:
        for r in t.rows:
            yield split_row(r, t.index)


def detect_t2_version(rows: list[Row], templates: Templates, year: int | None) -> str | None:
    """The 表二 version from its column headers; the year only when headers say nothing."""
    score = {v: 0 for v in templates.detect}
    for row in rows:
        if row.has_number or len(row.label) > 200:
            continue
        for v, needles in templates.detect.items():
            score[v] += sum(1 for n in needles if n in row.label)
    best = max(score.items(), key=lambda kv: kv[1])
    if best[1] > 0 and list(score.values()).count(best[1]) == 1:
        return best[0]
    return templates.version_for_year(year)


CACHE_MAX = 1 << 16
"""Entries kept by each per-label cache below (cleared when full)."""

_CONTAINED: dict[tuple[str, int], tuple[object, tuple[tuple[int, str], ...]]] = {}


def _best_contained(label: str, items) -> tuple[tuple[int, str], ...]:
    """(length of the longest label variant `label` contains, item) for every item of
    `items` it names. Cached per label and item list across documents (the same template's
    items; a label is asked for several times a document, and the same labels in every
    report): the entry keeps `items` itself, so its id stands for it while cached."""
    key = (label, id(items))
    got = _CONTAINED.get(key)
    if got is not None and got[0] is items:
        return got[1]
    hits = []
    for it in items:
        n = max((len(v) for v in it.labels if v in label), default=0)
        if n:
            hits.append((n, it.code))
    if len(_CONTAINED) >= CACHE_MAX:
        _CONTAINED.clear()
    _CONTAINED[key] = (items, tuple(hits))
    return _CONTAINED[key][1]


def join_page_split(first: Row, second: Row) -> Row | None:
    """Join the two parts of a table row split across a page break: same number of value
    cells, the labels concatenated, each value cell filled in at most one part."""
    if len(first.values) != len(second.values) or not first.values:
        return None
    if first.raw.page is None or second.raw.page != first.raw.page + 1:
        return None
    cells = []
    for a, b in zip(first.values, second.values):
        if a.text and b.text:
            return None
        cells.append(a if a.text or not b.text else b)
    a_lab, b_lab = first.raw.cells[: first.value_offset], second.raw.cells[: second.value_offset]
    if len(a_lab) == len(b_lab):  # label cells joined column by column (（五） + 不予处理)
        labels = [RawCell(a.text + b.text, a.x0, a.x1) for a, b in zip(a_lab, b_lab)]
        label = norm("".join(c.text for c in labels))
    else:
        labels, label = list(a_lab), first.label + second.label
    raw = RawRow(cells=labels + cells, page=first.raw.page, index=first.raw.index)
    return Row(raw, first.table_index, label, cells, len(labels),
               any(c.text and not is_blank(c.text) for c in cells))


def _candidates(label: str, specs: dict[str, TableSpec]) -> list[tuple[int, str, str]]:
    """(length of the longest label variant contained, table, item) for every item whose
    label the row's label contains."""
    return [(n, code, item) for code, spec in specs.items() for n, item in _best_contained(label, spec.items)]


def _header_positions(row: Row, spec: TableSpec, columns, found: dict[str, tuple[int, float]]) -> None:
    """Record x-centers of header cells naming a column (exact label beats containment)."""
    for c in row.raw.cells:
        if c.center is None or not c.text:
            continue
        for code, strength in _column_strengths(norm(c.text), spec, columns):
            if strength >= found.get(code, (0, 0.0))[0]:
                found[code] = (strength, c.center)


_STRENGTHS: dict[tuple[str, int, tuple[str, ...]], tuple[object, tuple[tuple[str, int], ...]]] = {}


def _column_strengths(t: str, spec: TableSpec, columns: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(column, 2 for an exact label, 1 for a contained one) of the `columns` header text
    `t` names, in order. Cached per text and table spec across documents (the entry keeps
    `spec`, so its id stands for it while cached)."""
    key = (t, id(spec), columns)
    got = _STRENGTHS.get(key)
    if got is not None and got[0] is spec:
        return got[1]
    out = []
    for code in columns:
        labels = spec.columns[code].labels
        strength = 2 if t in labels or strip_enumeration(t) in labels else (1 if any(_at_edge(lb, t) for lb in labels) else 0)
        if strength:
            out.append((code, strength))
    if len(_STRENGTHS) >= CACHE_MAX:
        _STRENGTHS.clear()
    _STRENGTHS[key] = (spec, tuple(out))
    return _STRENGTHS[key][1]


def _at_edge(label: str, text: str) -> bool:
    """A header cell names a column by containment only when the label opens or ends it
    (`自然人（个）`, `本年收费金额（单位：元）`): 其他 inside the group header 法人或其他组织 is
    not the column 其他, whose values would be read under the group's middle."""
    return text.startswith(label) or text.endswith(label)


def wrapped_label(own: str, carried: list[str], in_t4: bool) -> str:
    """The label to match a row by: its own, or, for a row of numbers without one (an
    unruled table printed the label's lines above it), the lines carried from above."""
    return own if own or in_t4 else "".join(carried)


def candidates_with_wrapped(label: str, own: str, carried: list[str],
                            specs: dict[str, TableSpec]) -> tuple[str, list[tuple[int, str, str]]]:
    """The row's candidates; when its own label names nothing, its label's first lines
    carried from above are put in front (a label wrapped over several lines)."""
    cands = _candidates(label, specs)
    if not cands and carried and own:
        label = "".join(carried) + label
        cands = _candidates(label, specs)
    return label, cands


def rejoin_orphan(orphan: Row, row: Row, label: str, cands: list[tuple[int, str, str]],
                  specs: dict[str, TableSpec]) -> tuple[Row, str, list[tuple[int, str, str]]]:
    """An unmatched row just above may be this row's first part (a page break split it):
    the joined row is taken when its label matches at least as well as this row's own."""
    merged = join_page_split(orphan, row)
    if merged is not None:
        merged_cands = _candidates(merged.label, specs)
        if merged_cands and max(merged_cands)[0] >= max(cands, default=(0,))[0]:
            return merged, merged.label, merged_cands
    return row, label, cands


def spanning_candidates(above: str, below: str, specs: dict[str, TableSpec]) -> list[tuple[int, str, str]]:
    """(length, table, item) of the label variants that run from `above` into `below`: the
    lines of a label printed above and below its row of numbers (an unruled table centres
    the numbers on a label wrapped over several lines). A variant wholly above or below
    does not count: it would be another row's label."""
    joined, cut = above + below, len(above)
    out = []
    for code, spec in specs.items():
        for it in spec.items:
            n = 0
            for v in it.labels:
                start = joined.find(v, max(0, cut - len(v) + 1))
                if 0 <= start < cut < start + len(v):
                    n = max(n, len(v))
            if n:
                out.append((n, code, it.code))
    return out


def choose_candidate(cands: list[tuple[int, str, str]], seen) -> tuple[str, str]:
    """The longest label variant wins; between equally long ones, an item not seen yet."""
    best = min(cands, key=lambda t: (-t[0], (t[1], t[2]) in seen))
    return best[1], best[2]


class Locator:
    """Walks a document's rows once, in order, and says which template item each row is.

    Per row (`feed`): 表四's own rows go to its `T4Scan`; a row without values is a header
    or narrative (`read_header`: column positions, the amount unit, the lines of a wrapped
    label); a row with values is matched (`match_row`: wrapped label, page-break joins,
    candidate choice, fuzzy fallback) and recorded (`record`), or kept as a possible
    first part of a split row."""

    def __init__(self, templates: Templates, t2_version: str | None):
        self.out = Located(t2_version=t2_version)
        self.specs = {"t2": templates.t2[t2_version or "2021"], "t3": templates.t3}
        self.order = {code: [it.code for it in spec.items] for code, spec in self.specs.items()}
        self.headers: dict[str, dict[str, tuple[int, float]]] = {"t2": {}, "t3": {}}
        """Table → column code → (strength, x-center) of the header cell naming it."""
        self.t4 = T4Scan.start(templates)
        self.last_table: str | None = None
        self.pending: list[str] = []
        """Value-less short lines just above: the first lines of a label wrapped in an
        unruled table, whose last line carries the numbers."""
        self.orphan: Row | None = None
        """A row with cells whose label matched nothing: maybe the first part of a row that
        a page break split in two."""
        self.amount_unit: str | None = None
        """The unit the last amount column header printed (元 / 万元)."""
        self.blank_item: ItemRow | None = None
        """The last matched row if all its cells were blank (its numbers may follow)."""
        self.previous: Row | None = None
        """The row fed before this one (a header row just above the row that opens 表四)."""
        self.unlabelled: tuple[Row, str] | None = None
        """A row of numbers without a label of its own whose lines above named nothing
        (with those lines): its label may go on below it."""

    def feed(self, row: Row) -> None:
        carried, self.pending = self.pending, []
        unlabelled, self.unlabelled = self.unlabelled, None
        if unlabelled is not None and not row.values and self.label_goes_on(*unlabelled, row):
            return
        self.t4.open_at(row.label, self.previous)
        self.previous = row
        if self.t4.take(row):
            return
        if not row.has_number and not row.values:
            self.read_header(row, carried)
        elif row.values:
            self.match_row(row, carried)

    def read_header(self, row: Row, carried: list[str]) -> None:
        """A header or narrative row: remember column positions, the amount unit and the
        short lines a wrapped label may continue from, for the next rows."""
        label = row.label
        if "金额" in label and len(label) <= MAX_LABEL:
            self.amount_unit = header_unit(label)
        if label and len(label) <= WRAP_MAX:
            self.pending = (carried + [label])[-2:]
        if len(label) <= MAX_LABEL:
            for code, spec in self.specs.items():
                _header_positions(row, spec, spec.column_order or tuple(spec.columns), self.headers[code])

    def match_row(self, row: Row, carried: list[str]) -> None:
        """A row with values: find its item and record it, or keep it as a possible first part."""
        own = row.label
        prev_orphan, self.orphan = self.orphan, None
        prev_blank, self.blank_item = self.blank_item, None
        in_t4 = self.t4.open
        label = wrapped_label(own, carried, in_t4)
        hit = None
        if label and len(label) <= MAX_LABEL:
            label, cands = candidates_with_wrapped(label, own, carried, self.specs)
            if not cands and prev_blank is not None and not in_t4 and self.finish_blank_row(prev_blank, row):
                return
            if prev_orphan is not None and own and not in_t4:
                row, label, cands = rejoin_orphan(prev_orphan, row, label, cands, self.specs)
            hit = self.choose(label, cands)
        if hit is not None:
            self.record(row, *hit)
        elif in_t4 and not own:
            self.t4.keep_cells(row)  # 表四's value row (or part of it) without a label
        elif own and not in_t4:
            self.orphan = row
        elif not in_t4 and label:
            self.unlabelled = (row, label)

    def label_goes_on(self, row: Row, above: str, line: Row) -> bool:
        """`line`, a value-less line just below a row of numbers whose lines above named
        nothing, ends their label: the row is recorded when one label variant runs from the
        lines above into it (the longest; two equally long ones decide nothing)."""
        if not line.label or len(line.label) > WRAP_MAX:
            return False
        last = norm(next((c.text for c in reversed(line.raw.cells) if c.text), ""))
        # the whole line, or its last part (a group label's column, （四）无法 / 提供, prints beside it)
        cands = {c for below in {line.label, last} for c in spanning_candidates(above, below, self.specs)
                 if (c[1], c[2]) not in self.out.items}
        if not cands:
            return False
        best = max(c[0] for c in cands)
        top = [c for c in cands if c[0] == best]
        if len(top) != 1:
            return False
        self.record(row, top[0][1], top[0][2], False)
        return True

    @staticmethod
    def finish_blank_row(prev_blank: ItemRow, row: Row) -> bool:
        """The rest of a row split across a page break: the label's first part matched with
        blank cells, the numbers came with the second part."""
        merged = join_page_split(prev_blank.row, row)
        if merged is None:
            return False
        prev_blank.row = merged
        return True

    def choose(self, label: str, cands: list[tuple[int, str, str]]) -> tuple[str, str, bool] | None:
        """(table, item, fuzzy): the best candidate, else similarity with the next items of
        the last table matched, else None."""
        if cands:
            return (*choose_candidate(cands, self.out.items), False)
        if self.last_table is not None:
            t = self.last_table
            return _fuzzy(label, self.specs[t], self.order[t], self.out, t)
        return None

    def record(self, row: Row, table: str, item: str, fuzzy: bool) -> None:
        """Keep the row as the item's, with the header positions seen so far; a second row
        for an item already seen is listed in `duplicates`, not kept."""
        if (table, item) in self.out.items:
            self.out.duplicates.append((table, item))
            return
        headers = self.headers[table]
        pos = {code: x for code, (_, x) in headers.items()}
        exact = frozenset(code for code, (s, _) in headers.items() if s == 2)
        ir = ItemRow(table, item, row, pos, fuzzy, self.amount_unit if table == "t2" else None, exact)
        self.out.items[(table, item)] = ir
        if not row.has_number:
            self.blank_item = ir
        self.last_table = table
        if table == "t3":
            self.t4.open = False  # what opened 表四 was not its header, or 表四 is over

    def finish(self) -> Located:
        self.out.t4 = self.t4.finish()
        return self.out


def locate(rows: list[Row], templates: Templates, year: int | None) -> Located:
    """Which template item (or 表四 row or cell) each row is; see `Locator`."""
    locator = Locator(templates, detect_t2_version(rows, templates, year))
    for row in rows:
        locator.feed(row)
    return locator.finish()


@functools.lru_cache(maxsize=CACHE_MAX)
def _similarity(text: str, label: str) -> float:
    """difflib's ratio of the two, cached (the same misprinted labels in many reports)."""
    return difflib.SequenceMatcher(None, text, label).ratio()


def _fuzzy(label: str, spec: TableSpec, order: list[str], out: Located, table: str):
    """Typo tolerance: compare with the next two unmatched items after the last match."""
    matched = [i for i, code in enumerate(order) if (table, code) in out.items]
    start = (max(matched) + 1) if matched else 0
    full = strip_enumeration(label)
    last = _LAST_ENUM.split(label)[-1]  # the sub-label after the last enumerator
    best = None
    for code in order[start : start + 2]:
        it = spec.item(code)
        for v in it.labels:
            r = max(_similarity(t[-len(v) - 4 :], v) for t in (full, last) if t)
            if r >= FUZZY_MIN and (best is None or r > best[0]):
                best = (r, code)
    return (table, best[1], True) if best else None
