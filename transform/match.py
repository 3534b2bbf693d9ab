"""Rows → located table rows: which template item (or header, or 表四 value row) each
raw row is. Matching is by label, never by position: the longest label variant
contained in the row's label wins; typos fall back to similarity with the next
expected items, in template order."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from extract.models import RawCell, RawDocument, RawRow

from .normalize import norm, strip_enumeration
from .numbers import is_blank, looks_numeric
from .templates import TableSpec, Templates

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


@dataclass(slots=True)
class Located:
    t2_version: str | None
    items: dict[tuple[str, str], ItemRow] = field(default_factory=dict)
    t4_cells: list[tuple[Row, RawCell, int]] = field(default_factory=list)
    t4_header: list[float] = field(default_factory=list)
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


def _candidates(label: str, specs: dict[str, TableSpec]) -> list[tuple[int, str, str]]:
    return [(n, code, item) for code, spec in specs.items() for n, item in _best_contained(label, spec, spec.items)]


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

    for row in rows:
        label = row.label
        carried, pending = pending, []
        if not t4_mode and _is_t4_header(label):
            t4_mode = True
            out.t4_seen = True
        if t4_mode and not row.has_number:
            xs = [c.center for c in row.raw.cells if c.center is not None and norm(c.text) in t4_labels]
            if len(xs) >= 5:
                out.t4_header.extend(xs)
            continue
        if not row.has_number and not row.values:
            # header or narrative: remember column positions for the next rows
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
        if not label and carried and not t4_mode:
            label = "".join(carried)
        if label and len(label) <= MAX_LABEL:
            cands = _candidates(label, specs)
            if not cands and carried and own:
                label = "".join(carried) + label
                cands = _candidates(label, specs)
            if cands:
                cands.sort(key=lambda t: (-t[0], (t[1], t[2]) in out.items))
                hit = (cands[0][1], cands[0][2], False)
            elif last_table is not None:
                hit = _fuzzy(label, specs[last_table], order[last_table], out, last_table)
        if hit is None:
            if t4_mode and not label:
                for k, c in enumerate(row.values):
                    out.t4_cells.append((row, c, row.value_offset + k))
            continue
        table, item, fuzzy = hit
        if (table, item) in out.items:
            out.duplicates.append((table, item))
            continue
        pos = {code: x for code, (s, x) in headers[table].items()}
        out.items[(table, item)] = ItemRow(table, item, row, pos, fuzzy)
        last_table = table
        if table == "t3":
            t4_mode = False
    return out


def _fuzzy(label: str, spec: TableSpec, order: list[str], out: Located, table: str):
    """Typo tolerance: compare with the next two unmatched items after the last match."""
    matched = [i for i, code in enumerate(order) if (table, code) in out.items]
    start = (max(matched) + 1) if matched else 0
    target = strip_enumeration(label)
    best = None
    for code in order[start : start + 2]:
        it = spec.item(code)
        for v in it.labels:
            r = difflib.SequenceMatcher(None, target[-len(v) - 4 :], v).ratio()
            if r >= FUZZY_MIN and (best is None or r > best[0]):
                best = (r, code)
    return (table, best[1], True) if best else None
