"""Rows → located table rows: which template item (or header, or 表四 value row) each
raw row is. Matching is by label, never by position: the longest label variant
contained in the row's label wins; typos fall back to similarity with the next
expected items, in template order."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from extract.models import RawCell, RawDocument, RawRow

from .normalize import norm, strip_enumeration
from .numbers import is_blank, looks_numeric
from .templates import TableSpec, Templates

_LAST_ENUM = re.compile(r"[(（][一二三四五六七八九十]+[)）]|\d+[.．、]")
_HEADER_UNIT = re.compile(r"(?:金额|收费)[^()（）]{0,6}[(（](?:单位[:：])?(万元|元)[)）]")
MAX_LABEL = 160
WRAP_MAX = 40
FUZZY_MIN = 0.75


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
    """`采购总金额（单位：元）` → 元; `（万元）` → 万元; no unit → None."""
    m = _HEADER_UNIT.search(label)
    return m.group(1) if m else None


@dataclass(slots=True)
class Located:
    t2_version: str | None
    items: dict[tuple[str, str], ItemRow] = field(default_factory=dict)
    t4_cells: list[tuple[Row, RawCell, int]] = field(default_factory=list)
    t4_header: list[float] = field(default_factory=list)
    t4_rows: dict[str, Row] = field(default_factory=dict)
    """表四 printed as 3 rows × 5 columns (one row per item): item code → its row."""
    t4_unplaced: list[str] = field(default_factory=list)
    """Labels of 表四 rows with numbers that could not be given an item (never dropped silently)."""
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    t4_seen: bool = False


def split_row(raw: RawRow, table_index: int) -> Row:
    """Label = the text cells up to the last non-numeric cell; values = the cells after it."""
    last_text = -1
    for k, c in enumerate(raw.cells):
        if c.text and not looks_numeric(c.text):
            last_text = k
    label = norm("".join(c.text for c in raw.cells[: last_text + 1]))
    values = raw.cells[last_text + 1 :]
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


def _best_contained(label: str, spec: TableSpec, items) -> list[tuple[int, str]]:
    hits = []
    for it in items:
        n = max((len(v) for v in it.labels if v in label), default=0)
        if n:
            hits.append((n, it.code))
    return hits


def _merge_split(first: Row, second: Row) -> Row | None:
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
    return [(n, code, item) for code, spec in specs.items() for n, item in _best_contained(label, spec, spec.items)]


T4_ROW_LABELS = (("litigation_after_review", ("复议后",)), ("litigation_direct", ("未经复议", "直接起诉")),
                 ("admin_review", ("行政复议",)))
"""Parts of the 表四 row labels when it is printed one row per item, most specific first
(行政复议 must not take the two 行政诉讼 rows; a wrapped label may lose its end)."""


def t4_item_for(label: str) -> str | None:
    t = norm(label)
    if len(t) > 30:
        return None
    for code, keys in T4_ROW_LABELS:
        if any(k in t for k in keys):
            return code
    return None


def _t4_column_label(text: str, labels) -> bool:
    return text in labels or (len(text) >= 2 and any(lb.startswith(text) for lb in labels))


def _is_t4_header(label: str) -> bool:
    return "行政复议" in label and ("行政诉讼" in label or "结果维持" in label) and len(label) <= 60 or label.startswith("行政复议") and len(label) <= 12


def _header_positions(row: Row, spec: TableSpec, columns, found: dict[str, tuple[int, float]]) -> None:
    """Record x-centers of header cells naming a column (exact label beats containment)."""
    for c in row.raw.cells:
        if c.center is None or not c.text:
            continue
        t = norm(c.text)
        for code in columns:
            labels = spec.columns[code].labels
            strength = 2 if t in labels or strip_enumeration(t) in labels else (1 if any(lb in t for lb in labels) else 0)
            if strength and strength >= found.get(code, (0, 0.0))[0]:
                found[code] = (strength, c.center)


def locate(rows: list[Row], templates: Templates, year: int | None) -> Located:
    t2v = detect_t2_version(rows, templates, year)
    out = Located(t2_version=t2v)
    specs = {"t2": templates.t2[t2v or "2021"], "t3": templates.t3}
    order = {code: [it.code for it in spec.items] for code, spec in specs.items()}
    headers: dict[str, dict[str, tuple[int, float]]] = {"t2": {}, "t3": {}}
    last_table: str | None = None
    t4_mode = False
    t4_labels = {lb: code for code in templates.t4.column_order for lb in templates.t4.columns[code].labels}
    pending: list[str] = []
    """Value-less short lines just above: the first lines of a label wrapped in an unruled
    table, whose last line carries the numbers."""
    orphan: Row | None = None
    """A row with cells whose label matched nothing: maybe the first part of a row that a
    page break split in two."""
    amount_unit: str | None = None
    """The unit the last amount column header printed (元 / 万元)."""
    blank_item: ItemRow | None = None
    """The last matched row if all its cells were blank (its numbers may follow)."""

    t4_orphan: Row | None = None
    """A 表四 row with numbers whose label names no item (its rest may follow)."""
    t4_blank: str | None = None
    """The last 表四 item row if all its cells were blank (its numbers may follow)."""

    for row in rows:
        label = row.label
        carried, pending = pending, []
        if not t4_mode and _is_t4_header(label):
            t4_mode = True
            out.t4_seen = True
        if t4_mode and label and not out.t4_cells:
            # 表四 printed one row per item; a page break may split a row into its label's
            # first part with the numbers and the rest with blank cells, or the other way round
            if len(row.values) == 15 and not out.t4_rows and len(label) <= 12:
                # the row of 15 with a label of its own (数量, 件数): no other table has 15 columns
                out.t4_cells.extend((row, c, row.value_offset + k) for k, c in enumerate(row.values))
                continue
            item4 = t4_item_for(label)
            if item4 is not None and item4 not in out.t4_rows and (row.has_number or len(row.values) == 5):
                if not row.has_number and t4_orphan is not None:
                    out.t4_rows[item4], t4_orphan = t4_orphan, None
                else:
                    out.t4_rows[item4] = row
                    t4_blank = None if row.has_number else item4
                continue
            if item4 is None and row.has_number and len(row.values) == 5:
                if t4_blank is not None:
                    out.t4_rows[t4_blank], t4_blank = row, None
                else:
                    if t4_orphan is not None:
                        out.t4_unplaced.append(t4_orphan.label)
                    t4_orphan = row
                continue
            t4_blank = None  # anything else in between: a later row of numbers is not its rest
        if t4_mode and not row.has_number and not label and len(row.values) == 15 and not out.t4_cells:
            # 表四's value row with every cell blank (explicit empty cells)
            out.t4_cells.extend((row, c, row.value_offset + k) for k, c in enumerate(row.values))
            continue
        if t4_mode and not row.has_number:
            if not out.t4_cells and not out.t4_rows:
                # header cells naming a column, also cut short where an unruled header wrapped
                # (`结果维` over `持`); the rows of one header are added up
                out.t4_header.extend(c.center for c in row.raw.cells
                                     if c.center is not None and _t4_column_label(norm(c.text), t4_labels))
            continue
        if not row.has_number and not row.values:
            # header or narrative: remember column positions (and amount units) for the next rows
            if "金额" in label and len(label) <= MAX_LABEL:
                amount_unit = header_unit(label)
            if label and len(label) <= WRAP_MAX:
                pending = (carried + [label])[-2:]
            if len(label) <= MAX_LABEL:
                for code, spec in specs.items():
                    cols = spec.column_order or tuple(spec.columns)
                    _header_positions(row, spec, cols, headers[code])
            continue
        if not row.values:
            continue
        hit = None
        own = label
        prev_orphan, orphan = orphan, None
        prev_blank, blank_item = blank_item, None
        if not label and carried and not t4_mode:
            label = "".join(carried)
        if label and len(label) <= MAX_LABEL:
            cands = _candidates(label, specs)
            if not cands and carried and own:
                label = "".join(carried) + label
                cands = _candidates(label, specs)
            if not cands and prev_blank is not None and not t4_mode:
                # the rest of a row split across a page break: the label's first part
                # matched with blank cells, the numbers came with the second part
                merged = _merge_split(prev_blank.row, row)
                if merged is not None:
                    prev_blank.row = merged
                    continue
            if prev_orphan is not None and own and not t4_mode:
                merged = _merge_split(prev_orphan, row)
                if merged is not None:
                    merged_cands = _candidates(merged.label, specs)
                    if merged_cands and max(merged_cands)[0] >= max(cands, default=(0,))[0]:
                        row, label, cands = merged, merged.label, merged_cands
            if cands:
                cands.sort(key=lambda t: (-t[0], (t[1], t[2]) in out.items))
                hit = (cands[0][1], cands[0][2], False)
            elif last_table is not None:
                hit = _fuzzy(label, specs[last_table], order[last_table], out, last_table)
        if hit is None:
            if t4_mode and not label:
                for k, c in enumerate(row.values):
                    out.t4_cells.append((row, c, row.value_offset + k))
            elif own and row.values and not t4_mode:
                orphan = row
            continue
        table, item, fuzzy = hit
        if (table, item) in out.items:
            out.duplicates.append((table, item))
            continue
        pos = {code: x for code, (s, x) in headers[table].items()}
        exact = frozenset(code for code, (s, _) in headers[table].items() if s == 2)
        out.items[(table, item)] = ItemRow(table, item, row, pos, fuzzy, amount_unit if table == "t2" else None,
                                           exact)
        if not row.has_number:
            blank_item = out.items[(table, item)]
        last_table = table
        if table == "t3":
            t4_mode = False
    if t4_orphan is not None:
        out.t4_unplaced.append(t4_orphan.label)
    return out


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
            r = max(difflib.SequenceMatcher(None, t[-len(v) - 4 :], v).ratio() for t in (full, last) if t)
            if r >= FUZZY_MIN and (best is None or r > best[0]):
                best = (r, code)
    return (table, best[1], True) if best else None
