"""Placing the values of rows that lost cells (text layers drop empty cells, so a row
shows 6 numbers for 7 columns). Every way of laying the printed values over the
columns is tried; the missing cells are solved from the identities; a layout is kept
only if every identity touching a cell of those rows (solved or read) then holds with non-negative integers.
If all kept layouts give the same row values, they are used and the solved cells are
marked `derived`; otherwise the row is flagged `ambiguous`, never guessed."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import unicodedata
from decimal import Decimal

from extract.models import RawCell

from .numbers import parse_count
from .templates import Identity, TableSpec, expand_items
from .tidy import Slot, merged_number

MAX_LAYOUTS = 2000


Key = tuple[str, str]
"""(item, column) of a cell of the table."""
Equation = tuple[list[Key], list[Key]]
"""sum(lhs cells) = sum(rhs cells)."""


def equations(spec: TableSpec, identities: tuple[Identity, ...], printed: list[str]) -> list[Equation]:
    """The identities of `spec`'s table as equations over the cells of the printed items."""
    eqs = []
    for ident in identities:
        if ident.table != spec.code:
            continue
        if ident.kind == "column_sum":
            lhs, rhs = expand_items(ident.lhs, printed), expand_items(ident.rhs, printed)
            for col in spec.column_order:
                eqs.append(([(i, col) for i in lhs], [(i, col) for i in rhs]))
        elif ident.kind == "row_sum":
            for item in printed:
                eqs.append(([(item, c) for c in ident.lhs], [(item, c) for c in ident.rhs]))
    return eqs


def _known(slot: Slot) -> Decimal | None:
    if slot.cell is None or not slot.cell.text:
        return Decimal(0) if "blank" in slot.flags else None
    if slot.cell.doubtful or merged_number(slot.cell):  # OCR below the threshold, a number merged over rows
        return None
    p = parse_count(slot.cell.text)
    if p.kind == "number":
        return Decimal(p.value)
    if p.kind == "blank":
        return Decimal(0)
    return None


Choice = tuple[str, list[str], tuple[int, ...]]
"""(item, its columns, the columns its printed cells go to)."""
Cells = dict[str, list[tuple[RawCell, int]]]
"""Item → its printed cells (with their index in the row)."""


def layout_choices(spec: TableSpec, grid: dict[Key, Slot], short: Cells) -> list[list[Choice]]:
    """Per short row, every way of laying its printed cells over its columns, in order."""
    choices = []
    for item, cells in short.items():
        cols = [c for c in spec.column_order if (item, c) in grid] or list(spec.item(item).columns)
        choices.append([(item, cols, combo) for combo in itertools.combinations(range(len(cols)), len(cells))])
    return choices


def lay_out(layout: tuple[Choice, ...], short: Cells, base: dict[Key, Decimal | None]):
    """The values of one layout: the known cells of the other rows, the printed cells of
    the short rows where the layout puts them. Returns (values, unknown, read_from); an
    unreadable cell leaves the rest of its row unknown."""
    values = dict(base)
    unknown: set[Key] = set()
    read_from: dict[Key, tuple[RawCell, int]] = {}
    for item, cols, combo in layout:
        for col in cols:
            values[(item, col)] = None
            unknown.add((item, col))
        for (cell, idx), j in zip(short[item], combo):
            p = parse_count(cell.text)
            if p.kind == "unreadable" or cell.doubtful or merged_number(cell):
                break
            values[(item, cols[j])] = Decimal(p.value) if p.kind == "number" else Decimal(0)
            unknown.discard((item, cols[j]))
            read_from[(item, cols[j])] = (cell, idx)
    return values, unknown, read_from


def solve(values: dict[Key, Decimal | None], unknown: set[Key], eqs: list[Equation]) -> None:
    """Solve unknown cells from equations with exactly one unknown, until none is left
    or no equation helps (both in place)."""
    progress = True
    while unknown and progress:
        progress = False
        for lhs, rhs in eqs:
            miss = [k for k in lhs + rhs if values.get(k) is None]
            if len(miss) != 1 or miss[0] not in unknown:
                continue
            m = miss[0]
            l_sum = sum((values[k] for k in lhs if k != m), Decimal(0))
            r_sum = sum((values[k] for k in rhs if k != m), Decimal(0))
            values[m] = (r_sum - l_sum) if m in lhs else (l_sum - r_sum)
            unknown.discard(m)
            progress = True


def consistent(values: dict[Key, Decimal | None], derived: set[Key], touched: set[Key], eqs: list[Equation]) -> bool:
    """Solved cells are non-negative integers and every equation touching a cell of the
    short rows (and with every cell known) holds."""
    if any(values[k] < 0 or values[k] != values[k].to_integral_value() for k in derived):
        return False
    for lhs, rhs in eqs:
        keys = lhs + rhs
        if not any(k in touched for k in keys) or any(values.get(k) is None for k in keys):
            continue
        if sum(values[k] for k in lhs) != sum(values[k] for k in rhs):
            return False
    return True


def place_short_rows(spec: TableSpec, identities, grid: dict[Key, Slot], short: Cells, printed: list[str]) -> list[str]:
    """Fill the slots of `short` rows in place. Returns the items left ambiguous."""
    if not short:
        return []
    eqs = equations(spec, identities, printed)
    base = {key: _known(slot) for key, slot in grid.items() if slot.item not in short}
    items = list(short)
    choices = layout_choices(spec, grid, short)
    if math.prod(max(len(ch), 1) for ch in choices) > MAX_LAYOUTS:
        return _give_up(grid, items)
    results: dict[tuple, list] = {}
    for layout in itertools.product(*choices):
        values, unknown, read_from = lay_out(layout, short, base)
        derived = set(unknown)
        solve(values, unknown, eqs)
        if unknown or not consistent(values, derived, derived | set(read_from), eqs):
            continue
        row_values = tuple((k, values[k]) for item in items for k in sorted(grid) if k[0] == item)
        results.setdefault(row_values, []).append((derived, read_from))
    if len(results) != 1:
        return _give_up(grid, items)
    ((row_values, layouts),) = results.items()
    _apply(grid, row_values, set().union(*(d for d, _ in layouts)), layouts[0][1])
    return []


def _apply(grid: dict[Key, Slot], row_values, derived: set[Key], read_from: dict[Key, tuple[RawCell, int]]) -> None:
    """The one placement every consistent layout agrees on: solved cells `derived`."""
    for key, value in row_values:
        slot = grid[key]
        slot.flags = [f for f in slot.flags if f not in ("short", "blank")]
        if key in derived:
            slot.derived_value = int(value)
            slot.flags.append("derived")
            if key in read_from:
                slot.cell, slot.col_index = read_from[key]
        else:
            slot.cell, slot.col_index = read_from[key]


def _give_up(grid: dict[Key, Slot], items: list[str]) -> list[str]:
    for slot in grid.values():
        if slot.item in items:
            slot.flags = [f for f in slot.flags if f != "short"] + ["ambiguous", "unreadable"]
    return list(items)


# --- numbers printed as digit groups apart ---------------------------------------------------

_APART = re.compile(r"\d\s+\d")
_NOT_READ = {"unreadable", "ambiguous", "short", "not_found", "duplicate_row"}


def joined_reading(text: str) -> int | None:
    """`352 524` → 352524: the one number a cell's digit groups printed apart make (a number
    wrapped over two or three lines of a narrow cell, when the reader could not tell that
    the first line was full); None for any other text, for a cell that reads as a number or
    a blank on its own, and for groups beginning with 0 (`0 5`): no number wraps that way,
    and 0 and 5 in one cell sum to their joined reading, so a sum identity would confirm it."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    if not _APART.search(t) or parse_count(t).kind != "unreadable" or t.startswith("0"):
        return None
    p = parse_count(re.sub(r"\s+", "", t))
    return p.value if p.kind == "number" and p.value >= 0 else None


def _holds(eq: Equation, values: dict[Key, Decimal | None]) -> bool:
    lhs, rhs = eq
    if any(values.get(k) is None for k in lhs + rhs):
        return False
    return sum((values[k] for k in lhs), Decimal(0)) == sum((values[k] for k in rhs), Decimal(0))


def confirmed_joins(readings: dict[Key, Decimal], known: dict[Key, Decimal | None], eqs: list[Equation]) -> set[Key]:
    """The cells whose joined reading the identities confirm: every equation through the
    cell has all its cells read (printed values and the other joined readings) and holds,
    and there are at least two such equations (a row and a column), or the one there is
    holds no other joined reading (it pins the cell from printed values alone). A stack
    of two rows' numbers under a missing ruling, or a footnote mark, breaks an identity or
    leaves one unchecked: never confirmed."""
    values = {**known, **readings}
    through: dict[Key, list[Equation]] = {k: [] for k in readings}
    for eq in eqs:
        for k in set(eq[0] + eq[1]) & readings.keys():
            through[k].append(eq)
    out = set()
    for key, its in through.items():
        if not its or not all(_holds(eq, values) for eq in its):
            continue
        if len(its) == 1 and sum(1 for k in its[0][0] + its[0][1] if k in readings) > 1:
            continue
        out.add(key)
    return out


def join_apart_digits(spec: TableSpec, identities, grid: dict[Key, Slot], printed: list[str]) -> list[Key]:
    """Read the cells printed as digit groups apart (`352 524`) as one number where the
    identities confirm it (`confirmed_joins`); the cell's text becomes the joined digits and
    the slot is flagged `joined`. The others stay as they are (flagged unreadable later)."""
    readings = {}
    for key, slot in grid.items():
        if slot.cell is None or slot.cell.doubtful or merged_number(slot.cell) or _NOT_READ & set(slot.flags):
            continue
        v = joined_reading(slot.cell.text)
        if v is not None:
            readings[key] = Decimal(v)
    if not readings:
        return []
    known = {key: _known(slot) for key, slot in grid.items() if key not in readings}
    accepted = confirmed_joins(readings, known, equations(spec, identities, printed))
    for key in accepted:
        slot = grid[key]
        slot.cell = dataclasses.replace(slot.cell, text=str(int(readings[key])))
        slot.flags.append("joined")
    return sorted(accepted)
