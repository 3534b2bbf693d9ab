"""Placing the values of rows that lost cells (text layers drop empty cells, so a row
shows 6 numbers for 7 columns). Every way of laying the printed values over the
columns is tried; the missing cells are solved from the identities; a layout is kept
only if every identity touching a cell of those rows (solved or read) then holds with non-negative integers.
If all kept layouts give the same row values, they are used and the solved cells are
marked `derived`; otherwise the row is flagged `ambiguous`, never guessed."""

from __future__ import annotations

import itertools
from decimal import Decimal

from .numbers import parse_count
from .templates import Identity, TableSpec
from .tidy import Slot

MAX_LAYOUTS = 2000


def equations(spec: TableSpec, identities: tuple[Identity, ...], printed: list[str]) -> list[tuple[list, list]]:
    eqs = []
    for ident in identities:
        if ident.table != spec.code:
            continue

        def expand(refs):
            out = []
            for ref in refs:
                if ref.endswith(".*"):
                    out += [i for i in printed if i.startswith(ref[:-1])]
                elif ref in printed:
                    out.append(ref)
            return out

        if ident.kind == "column_sum":
            lhs, rhs = expand(ident.lhs), expand(ident.rhs)
            for col in spec.column_order:
                eqs.append(([(i, col) for i in lhs], [(i, col) for i in rhs]))
        elif ident.kind == "row_sum":
            for item in printed:
                eqs.append(([(item, c) for c in ident.lhs], [(item, c) for c in ident.rhs]))
    return eqs


def _known(slot: Slot) -> Decimal | None:
    if slot.cell is None or not slot.cell.text:
        return Decimal(0) if "blank" in slot.flags else None
    p = parse_count(slot.cell.text)
    if p.kind == "number":
        return Decimal(p.value)
    if p.kind == "blank":
        return Decimal(0)
    return None


def place_short_rows(spec: TableSpec, identities, grid: dict[tuple[str, str], Slot],
                     short: dict[str, list], printed: list[str]) -> list[str]:
    """Fill the slots of `short` rows in place. Returns the items left ambiguous."""
    if not short:
        return []
    eqs = equations(spec, identities, printed)
    base: dict[tuple[str, str], Decimal | None] = {}
    for key, slot in grid.items():
        if slot.item not in short:
            base[key] = _known(slot)
    items = list(short)
    choices = []
    for item in items:
        cols = [c for c in spec.column_order if (item, c) in grid] or list(spec.item(item).columns)
        k = len(short[item])
        choices.append([(item, cols, combo) for combo in itertools.combinations(range(len(cols)), k)])
    total = 1
    for ch in choices:
        total *= max(len(ch), 1)
    if total > MAX_LAYOUTS:
        return _give_up(grid, items)

    results = {}
    for layout in itertools.product(*choices):
        values = dict(base)
        unknown = set()
        read_from = {}
        for item, cols, combo in layout:
            cells = short[item]
            for j, col in enumerate(cols):
                values[(item, col)] = None
                unknown.add((item, col))
            for (cell, idx), j in zip(cells, combo):
                p = parse_count(cell.text)
                if p.kind == "unreadable":
                    break
                values[(item, cols[j])] = Decimal(p.value) if p.kind == "number" else Decimal(0)
                unknown.discard((item, cols[j]))
                read_from[(item, cols[j])] = (cell, idx)
        derived = set(unknown)
        progress = True
        while unknown and progress:
            progress = False
            for lhs, rhs in eqs:
                keys = lhs + rhs
                miss = [k for k in keys if values.get(k) is None]
                if len(miss) != 1 or miss[0] not in unknown:
                    continue
                m = miss[0]
                l_sum = sum((values[k] for k in lhs if k != m), Decimal(0))
                r_sum = sum((values[k] for k in rhs if k != m), Decimal(0))
                values[m] = (r_sum - l_sum) if m in lhs else (l_sum - r_sum)
                unknown.discard(m)
                progress = True
        if unknown:
            continue
        if any(values[k] < 0 or values[k] != values[k].to_integral_value() for k in derived):
            continue
        ok = True
        touched = derived | set(read_from)
        for lhs, rhs in eqs:
            keys = lhs + rhs
            if not any(k in touched for k in keys) or any(values.get(k) is None for k in keys):
                continue
            if sum(values[k] for k in lhs) != sum(values[k] for k in rhs):
                ok = False
                break
        if not ok:
            continue
        row_values = tuple((k, values[k]) for item in items for k in sorted(grid) if k[0] == item)
        results.setdefault(row_values, []).append((derived, read_from))
    if len(results) != 1:
        return _give_up(grid, items)
    (row_values, layouts), = results.items()
    derived_any = set().union(*(d for d, _ in layouts))
    _, read_from = layouts[0]
    for key, value in row_values:
        slot = grid[key]
        slot.flags = [f for f in slot.flags if f not in ("short", "blank")]
        if key in derived_any:
            slot.derived_value = int(value)
            slot.flags.append("derived")
            if key in read_from:
                slot.cell, slot.col_index = read_from[key]
        else:
            slot.cell, slot.col_index = read_from[key]
    return []


def _give_up(grid, items) -> list[str]:
    for key, slot in grid.items():
        if slot.item in items:
            slot.flags = [f for f in slot.flags if f != "short"] + ["ambiguous", "unreadable"]
    return list(items)
