"""Located rows → facts: assign value cells to template columns, parse numbers, keep
raw text and provenance.

Column assignment, in order of trust:
1. as many value cells as columns (blank cells explicit, as in HTML, DOCX and ruled
   PDFs) → in order;
2. otherwise the header geometry (each value goes to the column whose header is
   nearest; used by unruled PDFs, where blank cells leave no trace);
3. otherwise (text layers that dropped a cell) the identities decide, see `place.py`;
   values placed that way are marked `derived`, and a row they cannot decide is
   flagged `ambiguous` and `unreadable`, never guessed.

表四's slots are `t4.py`'s.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extract.models import RawCell

from .numbers import Parsed, parse_amount, parse_count
from .records import Fact
from .templates import TableSpec

if TYPE_CHECKING:  # match imports t4, which imports this module
    from .match import ItemRow, Row


@dataclass(slots=True)
class Slot:
    """One located cell of a table before it becomes a Fact."""

    table: str
    item: str
    column: str
    cell: RawCell | None = None
    row: Row | None = None
    col_index: int | None = None
    flags: list[str] = field(default_factory=list)
    derived_value: float | int | None = None
    unit: str | None = None
    """Unit named by the printed column header (元 / 万元), overriding the template's."""


def _trim(cells: list[tuple[RawCell, int]], n: int) -> list[tuple[RawCell, int]]:
    cells = list(cells)
    while len(cells) > n and cells and not cells[0][0].text:
        cells.pop(0)
    while len(cells) > n and cells and not cells[-1][0].text:
        cells.pop()
    return cells


def assign_cells(cells: list[tuple[RawCell, int]], columns: tuple[str, ...], header: dict[str, float] | list[float]):
    """Return ({column: (cell, index)}, state) with state "ok", "short" or "ambiguous"."""
    n = len(columns)
    cells = _trim(cells, n)
    if len(cells) == n:
        return {col: cells[k] for k, col in enumerate(columns)}, "ok"
    if isinstance(header, dict):
        centers = [header.get(col) for col in columns]
    else:
        centers = list(header) if len(header) == n else [None]
    geometric = all(c is not None for c in centers) and all(c.center is not None for c, _ in cells if c.text)
    if geometric:
        out: dict[str, tuple[RawCell, int]] = {}
        for cell, idx in cells:
            if not cell.text:
                continue
            spanned = [j for j in range(n) if cell.x0 < centers[j] < cell.x1]
            if len(spanned) > 1:
                # a cell merged over several columns: a 0 or a dash is each one's, a number no one's
                parsed = parse_count(cell.text)
                if parsed.kind != "blank" and parsed.value != 0:
                    return {}, "ambiguous"
            else:
                x = cell.center
                spanned = [min(range(n), key=lambda j: abs(centers[j] - x))]
            for k in spanned:
                if columns[k] in out:
                    return {}, "ambiguous"
                out[columns[k]] = (cell, idx)
        return out, "ok"
    if len(cells) < n:
        return {}, "short"
    return {}, "ambiguous"


def _as_headed(placed: dict[str, tuple[RawCell, int]], columns: tuple[str, ...], ir: ItemRow):
    """A full row is read in template order; but where the printed header names every
    column exactly and the cells sit under them in another order (a report that swapped
    two columns), the header wins: reading by position would be a silent error."""
    if not all(col in ir.exact and col in ir.header for col in columns):
        return placed
    cells = list(placed.values())
    if any(c.center is None for c, _ in cells):
        return placed
    order = sorted(columns, key=ir.header.__getitem__)  # the columns left to right
    xs = [ir.header[col] for col in order]
    tight = min((b - a for a, b in itertools.pairwise(xs)), default=0.0) / 2
    by_header: dict[str, tuple[RawCell, int]] = {}
    for cell, idx in cells:
        # the nearest header: one of the two around the cell's center (where both are as
        # near, the cell lies between two headers and is refused below either way)
        x = cell.center
        i = bisect.bisect_left(xs, x)
        if i == len(xs) or i > 0 and x - xs[i - 1] <= xs[i] - x:
            i -= 1
        col = order[i]
        if col in by_header or abs(xs[i] - x) >= tight:
            return placed  # two cells under one header, or one between two: not settled
        by_header[col] = (cell, idx)
    return by_header


STEP_TOLERANCE = 0.15
"""How far (share of the usual step) the known header centers may stray from even spacing
for the missing ones to be filled in."""


def complete_header(header: dict[str, float], columns: tuple[str, ...]) -> dict[str, float]:
    """Fill in the centers of header cells that could not be read (an unruled PDF runs
    `社会公益组织 法律服务机构` together when they wrap) between known ones, when the known
    centers are evenly spaced: the first and last column known, increasing, each step
    within STEP_TOLERANCE of the usual one. Otherwise the header stays as it is (and a
    short row is flagged rather than placed)."""
    known = [(k, header[c]) for k, c in enumerate(columns) if c in header]
    if len(known) == len(columns) or len(known) < 3 or known[0][0] != 0 or known[-1][0] != len(columns) - 1:
        return header
    steps = [(xb - xa) / (kb - ka) for (ka, xa), (kb, xb) in itertools.pairwise(known)]
    usual = sorted(steps)[len(steps) // 2]
    if usual <= 0 or any(abs(s - usual) > STEP_TOLERANCE * usual for s in steps):
        return header
    out = dict(header)
    for (ka, xa), (kb, xb) in itertools.pairwise(known):
        for k in range(ka + 1, kb):
            out[columns[k]] = xa + (xb - xa) * (k - ka) / (kb - ka)
    return out


def stray_values(ir: ItemRow, columns: tuple[str, ...]) -> list[tuple[RawCell, int]]:
    """Cells the label took although they sit under the value columns' headers: a label is
    the text up to the last non-numeric cell, so an OCR misreading (`∞` for 8, `二` for a
    dash) took every value before it into the label, and their columns read as blank. A
    cell whose center lies past the first value column's left edge (its header center less
    half the narrowest step) is a value cell, whatever its text: it is then parsed or
    flagged like any other (never left blank)."""
    centers = sorted(ir.header[c] for c in columns if c in ir.header)
    if len(centers) < 2 or len(centers) != len(columns):
        return []
    step = min(b - a for a, b in itertools.pairwise(centers))
    if step <= 0:
        return []
    edge = centers[0] - step / 2
    label = ir.row.raw.cells[: ir.row.value_offset]
    first = next((k for k, c in enumerate(label) if c.center is not None and c.center >= edge), None)
    if first is None or not any(c.text for c in label[:first]):
        return []  # nothing strayed, or nothing would be left of the label
    return [(as_value(c), k) for k, c in enumerate(label[first:], start=first)]


def slots_for_item(ir: ItemRow, spec: TableSpec) -> tuple[list[Slot], str]:
    """The slots of one located 表二/表三 row and the placement state ("ok", "short",
    "ambiguous")."""
    columns = spec.item(ir.item).columns
    cells = stray_values(ir, columns) + [(c, ir.row.value_offset + k) for k, c in enumerate(ir.row.values)]
    if all(c.center is None for c, _ in cells):
        # a text layer: empty fields before the first value are the label's spanned
        # columns (tabs), not blank cells; a text layer drops blank cells entirely
        while cells and not cells[0][0].text:
            cells.pop(0)
    placed, state = assign_cells(cells, columns, complete_header(ir.header, columns))
    if state == "ok":
        placed = _as_headed(placed, columns, ir)
    slots = []
    for col in columns:
        s = Slot(ir.table, ir.item, col, row=ir.row, unit=ir.unit)
        if col in placed:
            s.cell, s.col_index = placed[col]
        elif state == "ok":
            s.flags.append("blank")
        else:
            s.flags.append("unreadable" if state == "ambiguous" else "short")
        if ir.fuzzy:
            s.flags.append("label_fuzzy")
        slots.append(s)
    return slots, state


def as_value(cell: RawCell) -> RawCell:
    """A cell read as a value cell: the stand-in a cell merged down from a row above left in
    this row (`RawCell.above`: HTML rowspan, DOCX vMerge) reads as that cell, its text and
    its row count (`merged_number` says when it is no one row's)."""
    if cell.above is None:
        return cell
    return dataclasses.replace(cell, text=cell.above.text, rows=cell.above.rows)


def merged_number(cell: RawCell | None) -> bool:
    """A value cell merged over several rows (HTML rowspan, DOCX vMerge: `RawCell.rows`, the
    same in each row it covers) holding anything but a 0 or a blank: whose is it? The first
    row's, the last one's, or their sum: no one row's (flagged `ambiguous`, never guessed).
    A 0 or a blank mark is each row's, as one merged over columns is each column's
    (`assign_cells`); without this the rows below the first read as blank."""
    if cell is None:
        return False
    cell = as_value(cell)
    if cell.rows <= 1:
        return False
    p = parse_count(cell.text)
    return not (p.kind == "blank" or p.kind == "number" and p.value == 0)


def parse_slot(slot: Slot, spec: TableSpec) -> Parsed:
    colspec = spec.columns.get(slot.column)
    text = slot.cell.text if slot.cell is not None else ""
    if slot.cell is not None and slot.cell.doubtful and text.strip():
        return Parsed("unreadable")  # read by OCR below the confidence threshold: never guessed
    if merged_number(slot.cell):
        return Parsed("unreadable")
    if colspec is not None and colspec.unit:
        if slot.unit:  # the printed header names the unit
            return parse_amount(text, slot.unit, header_has_unit=True)
        # the template's label names 万元, but the printed header did not: an assumption
        return parse_amount(text, colspec.unit, header_has_unit=False)
    return parse_count(text)


def slot_to_fact(slot: Slot, spec: TableSpec, report_id: str, parser_version: str) -> Fact:
    flags = [f for f in slot.flags if f != "short"] if "short" in slot.flags else slot.flags[:]
    raw = slot.cell.text if slot.cell is not None else None
    confidence = slot.cell.confidence if slot.cell is not None else None
    if merged_number(slot.cell):
        flags += ["ambiguous", "unreadable"]
    if confidence is not None:
        flags.append("ocr")
        if slot.cell.doubtful:
            flags.append("low_confidence")
    value = None
    unit = None
    blank = False
    derived = False
    if slot.derived_value is not None or "derived" in flags:
        value = slot.derived_value
        derived = True
        if slot.cell is not None:
            p = parse_slot(slot, spec)
            unit = p.unit
    elif "not_found" in flags or "unreadable" in flags or "ambiguous" in flags:
        pass
    else:
        p = parse_slot(slot, spec)
        unit = p.unit
        if p.kind == "number":
            value = p.value
            if p.unit_assumed:
                flags.append("unit_assumed")
        elif p.kind == "blank":
            blank = True
            if "blank" not in flags:
                flags.append("blank")
        else:
            flags.append("unreadable")
    colspec = spec.columns.get(slot.column)
    if colspec is not None and colspec.unit:
        unit = "万元"
    row = slot.row.raw if slot.row is not None else None
    return Fact(
        report_id=report_id, table=slot.table, item=slot.item, column=slot.column,
        value=value, unit=unit, raw=raw if raw else None, blank=blank, derived=derived,
        flags=sorted(set(flags)) if flags else flags, page=row.page if row is not None else None,
        source_table=slot.row.table_index if slot.row is not None else None,
        source_row=row.index if row is not None else None, source_col=slot.col_index,
        parser_version=parser_version, confidence=confidence,
    )


def doubt_assumed_units(facts: list[Fact], declared: frozenset[str]) -> tuple[list[Fact], list[str]]:
    """An amount read in 万元 by assumption (neither its printed header nor its cell names a
    unit) is not read when the document declares 元 somewhere (`单位：元` above the table,
    in a section row, in a header the matcher did not tie to the column): it may be in 元,
    10,000 times smaller. Returns the facts with each such amount as a new fact flagged
    `unreadable` (value null; the input is left as it was) and the problem for the reason."""
    if "元" not in declared:
        return list(facts), []
    out, doubted = [], []
    for f in facts:
        if "unit_assumed" in f.flags and f.value is not None:
            f = dataclasses.replace(f, value=None, flags=sorted(set(f.flags) | {"unreadable"}))
            doubted.append(f"{f.table}.{f.item}.{f.column}")
        out.append(f)
    if not doubted:
        return out, []
    return out, [f"amount unit unclear (no unit by the number, the document declares 元): {', '.join(doubted)}"]
