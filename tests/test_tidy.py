"""tidy.py on tiny inputs: which cells of a located row are its values."""

from __future__ import annotations

from extract import RawCell, RawRow
from transform.match import ItemRow, split_row
from transform.records import Fact
from transform.tidy import doubt_assumed_units, stray_values

HEADER = {"issued": 250.0, "repealed": 350.0, "in_force": 450.0}
COLUMNS = ("issued", "repealed", "in_force")


def cell(text: str, center: float, confidence: float | None = 0.99, doubtful: bool = False) -> RawCell:
    return RawCell(text, center - 40, center + 40, confidence, doubtful)


def item_row(*cells: RawCell) -> ItemRow:
    return ItemRow("t2", "normative_docs", split_row(RawRow(list(cells)), 0), header=dict(HEADER))


def test_an_ocr_misreading_under_a_value_header_is_a_value_not_part_of_the_label():
    # `8` read as `∞`: the label would run up to it and the issued column read as blank
    ir = item_row(cell("行政规范性文件", 100), cell("∞", 250, 0.59, doubtful=True), cell("28", 350), cell("8", 450))
    assert ir.row.label == "行政规范性文件∞"
    assert [(c.text, k) for c, k in stray_values(ir, COLUMNS)] == [("∞", 1)]


def test_numbers_taken_into_the_label_before_a_misread_dash_come_back_as_values():
    ir = item_row(cell("其他对外管理服务事项", 100), cell("157", 250), cell("二", 350), cell("—", 450))
    assert [(c.text, k) for c, k in stray_values(ir, COLUMNS)] == [("157", 1), ("二", 2)]


def test_a_clean_row_or_one_without_geometry_has_no_stray_values():
    assert stray_values(item_row(cell("行政规范性文件", 100), cell("3", 250), cell("", 350), cell("3", 450)),
                        COLUMNS) == []
    text_layer = ItemRow("t2", "normative_docs", split_row(RawRow([RawCell("行政规范性文件"), RawCell("x3")]), 0))
    assert stray_values(text_layer, COLUMNS) == []


def test_a_label_cell_wide_enough_to_reach_the_values_is_not_taken_when_nothing_would_be_left():
    ir = item_row(cell("行政规范性文件", 260), cell("3", 350), cell("3", 450))
    assert stray_values(ir, COLUMNS) == []


def _fee(value, flags) -> Fact:
    return Fact("r", "t2", "admin_fees", "amount", value, "万元", str(value), flags=list(flags))


def test_an_assumed_unit_in_a_document_declaring_yuan_gives_a_new_unreadable_fact_and_leaves_the_input_alone():
    assumed, stated = _fee(12.5, ["unit_assumed"]), _fee(3, [])
    out, problems = doubt_assumed_units([assumed, stated], frozenset({"元"}))
    assert (out[0].value, out[0].flags) == (None, ["unit_assumed", "unreadable"])
    assert out[1] is stated
    assert (assumed.value, assumed.flags) == (12.5, ["unit_assumed"])  # the caller's fact is unchanged
    assert problems == ["amount unit unclear (no unit by the number, the document declares 元): t2.admin_fees.amount"]


def test_an_assumed_unit_without_yuan_declared_or_an_unread_amount_is_no_problem():
    assumed, unread = _fee(12.5, ["unit_assumed"]), _fee(None, ["unit_assumed", "unreadable"])
    assert doubt_assumed_units([assumed], frozenset({"万元"})) == ([assumed], [])
    assert doubt_assumed_units([unread], frozenset({"元"})) == ([unread], [])
