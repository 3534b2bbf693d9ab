"""Placing rows that lost cells (transform/place.py), step by step, on a tiny table:
items x and y, columns a, b and total = a + b, and total(y) = total(x) (a column sum)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extract.models import RawCell
from transform import place
from transform.place import (
    consistent,
    equations,
    lay_out,
    layout_choices,
    place_short_rows,
    solve,
)
from transform.templates import ColumnSpec, Identity, ItemSpec, TableSpec
from transform.tidy import Slot

COLS = ("a", "b", "total")
SPEC = TableSpec("tx", None, (ItemSpec("x", ("x",), COLS), ItemSpec("y", ("y",), COLS)),
                 {c: ColumnSpec(c, (c,)) for c in COLS}, COLS)
ROW_SUM = Identity("row", 3, "tx", "row_sum", lhs=("total",), rhs=("a", "b"))
COLUMN_SUM = Identity("col", 1, "tx", "column_sum", lhs=("y",), rhs=("x",))
D = Decimal


def grid(**rows: tuple[str, ...] | None) -> dict[tuple[str, str], Slot]:
    """Slots of items with full rows (cells in order) or short rows (None: flagged short)."""
    out = {}
    for item, texts in rows.items():
        for k, col in enumerate(COLS):
            s = Slot("tx", item, col, flags=[] if texts else ["short"])
            if texts:
                s.cell, s.col_index = RawCell(texts[k]), k
            out[(item, col)] = s
    return out


def cells(*texts: str) -> list[tuple[RawCell, int]]:
    return [(RawCell(t), k) for k, t in enumerate(texts)]


def test_equations_give_a_row_sum_per_item_and_a_column_sum_per_column():
    eqs = equations(SPEC, (ROW_SUM, COLUMN_SUM), ["x", "y"])
    assert ([("x", "total")], [("x", "a"), ("x", "b")]) in eqs
    assert ([("y", "b")], [("x", "b")]) in eqs
    assert len(eqs) == 2 + 3


def test_equations_skip_identities_of_other_tables():
    assert equations(SPEC, (Identity("r", 3, "t3", "row_sum", ("total",), ("a",)),), ["x"]) == []


def test_layout_choices_are_every_ordered_spread_of_the_printed_cells():
    choices = layout_choices(SPEC, grid(x=None), {"x": cells("5", "3")})
    assert [combo for _, _, combo in choices[0]] == [(0, 1), (0, 2), (1, 2)]


def test_lay_out_puts_the_printed_cells_where_the_layout_says_and_the_rest_unknown():
    layout = (("x", list(COLS), (0, 2)),)
    values, unknown, read_from = lay_out(layout, {"x": cells("5", "3")}, {})
    assert values == {("x", "a"): D(5), ("x", "b"): None, ("x", "total"): D(3)}
    assert unknown == {("x", "b")} and set(read_from) == {("x", "a"), ("x", "total")}


def test_lay_out_leaves_the_cells_after_an_unreadable_one_unknown():
    _, unknown, _ = lay_out((("x", list(COLS), (0, 1)),), {"x": cells("1 2", "3")}, {})
    assert unknown == {("x", "a"), ("x", "b"), ("x", "total")}


def test_solve_fills_cells_one_unknown_at_a_time():
    eqs = equations(SPEC, (ROW_SUM, COLUMN_SUM), ["x", "y"])
    values = {("x", "a"): D(5), ("x", "b"): D(3), ("x", "total"): None,
              ("y", "a"): D(5), ("y", "b"): D(3), ("y", "total"): None}
    unknown = {("x", "total"), ("y", "total")}
    solve(values, unknown, eqs)
    assert not unknown and values[("x", "total")] == values[("y", "total")] == D(8)


def test_consistent_refuses_a_negative_solved_cell():
    eqs = equations(SPEC, (ROW_SUM,), ["x"])
    values = {("x", "a"): D(5), ("x", "b"): D(-2), ("x", "total"): D(3)}
    assert not consistent(values, {("x", "b")}, {("x", "b")}, eqs)
    values[("x", "b")] = D(-2)
    assert consistent(values, set(), set(), eqs)  # a printed negative is the identities' business


def test_consistent_refuses_a_layout_that_breaks_an_identity_it_touches():
    eqs = equations(SPEC, (ROW_SUM,), ["x", "y"])
    values = {("x", "a"): D(1), ("x", "b"): D(1), ("x", "total"): D(3),
              ("y", "a"): D(1), ("y", "b"): D(1), ("y", "total"): D(3)}
    assert not consistent(values, set(), {("x", "a")}, eqs)
    assert consistent(values, set(), set(), eqs)  # broken rows nobody touched are left as printed


def test_place_short_rows_places_the_one_layout_the_identities_allow_and_marks_solved_cells_derived():
    g = grid(x=None)
    left = place_short_rows(SPEC, (ROW_SUM,), g, {"x": cells("5", "3")}, ["x"])
    assert left == []
    assert (g[("x", "a")].cell.text, g[("x", "b")].cell.text) == ("5", "3")
    assert g[("x", "total")].derived_value == 8 and g[("x", "total")].flags == ["derived"]


def test_place_short_rows_flags_rows_several_layouts_fit_never_guessed():
    g = grid(x=None)
    left = place_short_rows(SPEC, (ROW_SUM,), g, {"x": cells("1", "3")}, ["x"])
    assert left == ["x"]
    assert all(s.flags == ["ambiguous", "unreadable"] and s.cell is None for s in g.values())


def test_place_short_rows_uses_the_other_rows_to_decide():
    g = grid(x=("1", "2", "3"), y=None)  # y prints 1 and 3: by the column sum, a and total
    left = place_short_rows(SPEC, (ROW_SUM, COLUMN_SUM), g, {"y": cells("1", "3")}, ["x", "y"])
    assert left == []
    assert g[("y", "b")].derived_value == 2 and g[("y", "total")].cell.text == "3"


def test_place_short_rows_gives_up_past_the_layout_limit(monkeypatch):
    monkeypatch.setattr(place, "MAX_LAYOUTS", 2)
    g = grid(x=None)
    assert place_short_rows(SPEC, (ROW_SUM,), g, {"x": cells("5", "3")}, ["x"]) == ["x"]


@pytest.mark.parametrize("printed", [[], ["x"]])
def test_nothing_short_places_nothing(printed):
    g = grid(x=("1", "2", "3"))
    assert place_short_rows(SPEC, (ROW_SUM,), g, {}, printed) == []
    assert all(s.flags == [] for s in g.values())
