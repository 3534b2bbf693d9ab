"""表四 (行政复议、行政诉讼): where it starts, which rows and cells are its own, and their slots.

表四 is printed two ways: one row of 15 numbers (3 items × 5 columns) under a header
naming the columns, or one row per item (3 rows × 5 columns). While `match.locate` walks a
document's rows, a `T4Scan` watches them: once a header row opens 表四 (the needles are
template data, `tables.t4.layout`), it takes the row of 15, the item rows (also when a page
break split one in two) and the x-centers of the header's column labels. The rows it does
not take go on to 表二/表三 matching. `t4_slots` then gives every 表四 cell its column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extract.models import RawCell

from .normalize import norm
from .templates import T4Layout, TableSpec, Templates
from .tidy import Slot, assign_cells

if TYPE_CHECKING:
    from .match import Row

ROW_LABEL_MAX = 30
"""A longer label is narrative, not the label of a 表四 item row."""
HEADER_MAX = 60
"""A header row that opens 表四 names its needles within this many characters..."""
SHORT_HEADER_MAX = 12
"""...or starts with `layout.opens` within this many (the header's first line alone)."""
OWN_LABEL_MAX = 12
"""The row of 15 may carry a short label of its own (数量, 件数)."""


_SENTENCE = re.compile(r"[,;。%\d]")
"""A line with these is narrative (…引起的行政复议案件2件、行政诉讼案件7件。), not a header."""


def opens_t4(label: str, layout: T4Layout) -> bool:
    """A header row that opens 表四: `行政复议 … 行政诉讼` or `行政复议 … 结果维持`, or a short
    row starting with 行政复议; never a line of narrative (a PDF's text: opened there, 表四
    took 表三's header rows for its own and 表三 lost its column positions)."""
    if _SENTENCE.search(label):
        return False
    named = layout.opens in label and any(n in label for n in layout.opens_with)
    return named and len(label) <= HEADER_MAX or label.startswith(layout.opens) and len(label) <= SHORT_HEADER_MAX


def item_for(label: str, layout: T4Layout) -> str | None:
    """The 表四 item a row label names when it is printed one row per item (most specific
    parts first), None for a long (narrative) label or one naming none."""
    t = norm(label)
    if len(t) > ROW_LABEL_MAX:
        return None
    for code, parts in layout.row_parts:
        if any(p in t for p in parts):
            return code
    return None


def begins_item_row(label: str, layout: T4Layout) -> bool:
    """Whether a row label begins a 表四 item row (行政诉讼 of 行政诉讼（复议后起诉） that a page
    break cut off from its rest): such a row is never the rest of the row above."""
    t = norm(label)
    return any(s in t for s in layout.row_starts)


def is_column_label(text: str, labels) -> bool:
    """A header cell naming a 表四 column, also cut short where an unruled header wrapped
    (`结果维` over `持`)."""
    return text in labels or (len(text) >= 2 and any(lb.startswith(text) for lb in labels))


@dataclass(slots=True)
class T4Found:
    """What a document printed of 表四."""

    cells: list[tuple[Row, RawCell, int]] = field(default_factory=list)
    """The value cells of the row of 15 (with their row and index in it), in order."""
    header: list[float] = field(default_factory=list)
    """x-centers of the header cells naming a column (the header rows added up)."""
    names: list[str | None] = field(default_factory=list)
    """The column each of those header cells names (None: cut short, naming several)."""
    rows: dict[str, Row] = field(default_factory=dict)
    """Printed one row per item: item code → its row."""
    unplaced: list[str] = field(default_factory=list)
    """Labels of rows with numbers that could not be given an item (never dropped silently)."""
    repeated: list[str] = field(default_factory=list)
    """Items whose row came again with numbers after their first row (a second report?)."""

    @property
    def printed(self) -> bool:
        return bool(self.cells or self.rows)


@dataclass(slots=True)
class T4Scan:
    """The 表四 state while rows are walked in order."""

    layout: T4Layout
    column_labels: tuple[str, ...]
    width: int
    """Cells of the one-row layout (items × columns: 15)."""
    row_width: int
    """Cells of an item row (columns: 5)."""
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Column code → its labels."""
    found: T4Found = field(default_factory=T4Found)
    open: bool = False
    """Inside 表四: a header row opened it and no 表三 row came since."""
    orphan: Row | None = None
    """A row with numbers whose label names no item (its label's rest may follow)."""
    blank: str | None = None
    """The last item row if all its cells were blank (its numbers may follow)."""

    @classmethod
    def start(cls, templates: Templates) -> T4Scan:
        spec = templates.t4
        labels = tuple(lb for code in spec.column_order for lb in spec.columns[code].labels)
        return cls(templates.t4_layout, labels, len(spec.items) * len(spec.column_order), len(spec.column_order),
                   {code: tuple(spec.columns[code].labels) for code in spec.column_order})

    def open_at(self, label: str, above: Row | None = None) -> None:
        """Open 表四 at a row whose label opens it. `above`, the row just before it: a header
        row naming the five columns (`结果维持 … 总计` over the item rows, the row that
        opens 表四 being its first item row) gives their positions and order."""
        if not self.open and opens_t4(label, self.layout):
            self.open = True
            if above is not None and not above.has_number and not self.found.header:
                cells = self.header_cells(above)
                if len(cells) == self.row_width:
                    self.found.header = [x for x, _ in cells]
                    self.found.names = [name for _, name in cells]

    def take(self, row: Row) -> bool:
        """Take `row` if it is 表四's own; False leaves it to 表二/表三 matching."""
        if not self.open:
            return False
        if row.label and not self.found.cells and self.take_labelled(row):
            return True
        return self.take_without_numbers(row)

    def take_labelled(self, row: Row) -> bool:
        """A labelled row: the row of 15 with its own label, an item row, or a row of 5
        numbers whose label names no item (the other part of an item row that a page break
        split: label and numbers in one part, the label's rest with blank cells in the other)."""
        if len(row.values) == self.width and not self.found.rows and len(row.label) <= OWN_LABEL_MAX:
            self.keep_cells(row)  # no other table has 15 columns
            return True
        item = item_for(row.label, self.layout)
        if item is not None and (row.has_number or len(row.values) == self.row_width):
            if item not in self.found.rows:
                self.keep_item_row(item, row)
                return True
            if row.has_number:
                self.found.repeated.append(item)
        if item is None and row.has_number and len(row.values) == self.row_width:
            self.keep_numbers_row(row)
            return True
        self.blank = None  # anything else in between: a later row of numbers is not its rest
        return False

    def keep_item_row(self, item: str, row: Row) -> None:
        if not row.has_number and self.orphan is not None:
            self.found.rows[item], self.orphan = self.orphan, None
        else:
            self.found.rows[item] = row
            # only a row whose cells are all empty may have its numbers in the next part (a
            # dash or a 0 is printed: the row is complete)
            self.blank = None if any(c.text for c in row.values) else item

    def keep_numbers_row(self, row: Row) -> None:
        if self.blank is not None and not begins_item_row(row.label, self.layout):
            self.found.rows[self.blank], self.blank = row, None
            return
        self.blank = None
        if self.orphan is not None:
            self.found.unplaced.append(self.orphan.label)
        self.orphan = row

    def take_without_numbers(self, row: Row) -> bool:
        """Every row without numbers inside 表四 is its own: the value row of 15 with every
        cell blank (explicit empty cells), or a header row (its column positions kept)."""
        if row.has_number:
            return False
        if not row.label and len(row.values) == self.width and not self.found.cells:
            self.keep_cells(row)
        elif not self.found.cells and not self.found.rows:
            for x, name in self.header_cells(row):
                self.found.header.append(x)
                self.found.names.append(name)
        return True

    def header_cells(self, row: Row) -> list[tuple[float, str | None]]:
        """(x-center, the column it names or None) of `row`'s cells that name a 表四 column."""
        out = []
        for c in row.raw.cells:
            if c.center is not None and c.text:
                t = norm(c.text)
                if is_column_label(t, self.column_labels):
                    out.append((c.center, self.column_named(t)))
        return out

    def column_named(self, text: str) -> str | None:
        codes = {code for code, labels in self.columns.items() if any(lb == text or lb.startswith(text) for lb in labels)}
        return codes.pop() if len(codes) == 1 else None

    def keep_cells(self, row: Row) -> None:
        self.found.cells.extend((row, c, row.value_offset + k) for k, c in enumerate(row.values))

    def finish(self) -> T4Found:
        if self.orphan is not None:
            self.found.unplaced.append(self.orphan.label)
            self.orphan = None
        return self.found


def header_order(found: T4Found, column_order: tuple[str, ...], groups: int) -> tuple[str, ...] | None:
    """The columns in the order the header prints them (left to right, `groups` items of
    `column_order`), when it names every column of every group once: a report that prints
    总计 first, or 结果纠正 before 结果维持, is read by its header, not by the form's order (a
    swap keeps every identity). None when the header does not say (cut short, incomplete)."""
    n = len(column_order)
    if len(found.names) != n * groups:
        return None
    codes = tuple(code for _, code in sorted(zip(found.header, found.names), key=lambda t: t[0]))
    if any(sorted(codes[g * n:(g + 1) * n], key=str) != sorted(column_order, key=str) for g in range(groups)):
        return None
    return codes


def t4_slots(found: T4Found, templates: Templates) -> tuple[list[Slot], str]:
    """The 15 slots of 表四 and the placement state ("ok", "short", "ambiguous"; "missing"
    when nothing was printed)."""
    spec = templates.t4
    if found.rows:
        return _item_row_slots(found, spec)
    if not found.cells:
        return [], "missing"
    order = header_order(found, spec.column_order, len(spec.items)) or spec.column_order * len(spec.items)
    n = len(spec.column_order)
    columns = tuple(f"{it.code}/{order[g * n + k]}" for g, it in enumerate(spec.items) for k in range(n))
    cells = [(c, idx) for _, c, idx in found.cells]
    row_of = {id(c): r for r, c, _ in found.cells}
    placed, state = assign_cells(cells, columns, sorted(found.header) if len(found.header) == len(columns) else [])
    slots = []
    for key in columns:
        item, col = key.split("/")
        s = Slot("t4", item, col)
        if key in placed:
            s.cell, s.col_index = placed[key]
            s.row = row_of[id(s.cell)]
        elif state == "ok":
            s.flags.append("blank")
            s.row = found.cells[0][0]
        else:
            s.flags.append("short")
        slots.append(s)
    return slots, state


def _item_row_slots(found: T4Found, spec: TableSpec) -> tuple[list[Slot], str]:
    """表四 printed as 3 rows (one per item) × 5 columns: place each row's cells by the
    5-column header when it has one."""
    header = sorted(found.header) if len(found.header) == len(spec.column_order) else []
    order = header_order(found, spec.column_order, 1) or spec.column_order
    slots, worst = [], "ok"
    for it in spec.items:
        row = found.rows.get(it.code)
        if row is None:
            slots += [Slot("t4", it.code, col, flags=["not_found"]) for col in spec.column_order]
            continue
        cells = [(c, row.value_offset + k) for k, c in enumerate(row.values)]
        placed, state = assign_cells(cells, order, header)
        if state != "ok":
            worst = state
        for col in spec.column_order:
            s = Slot("t4", it.code, col, row=row)
            if col in placed:
                s.cell, s.col_index = placed[col]
            else:
                s.flags.append("blank" if state == "ok" else "short")
            slots.append(s)
    return slots, worst
