"""表四's steps (transform/t4.py), each on a few hand-made rows."""

from __future__ import annotations

import dataclasses

import pytest

from extract.models import RawCell, RawRow
from transform.match import split_row
from transform.t4 import T4Found, T4Scan, is_column_label, item_for, opens_t4, t4_slots
from transform.templates import T4Layout, load_templates

FIVE = ("1", "0", "0", "0", "1")


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def layout(templates):
    return templates.t4_layout


def row(*texts: str, page: int | None = None, xs: list[float] | None = None):
    cells = [RawCell(t) if xs is None else RawCell(t, x - 5, x + 5) for t, x in zip(texts, xs or [None] * len(texts))]
    return split_row(RawRow(cells, page=page), 0)


def scan(templates, *rows) -> T4Scan:
    """An open scan fed `rows`; rows it does not take are ignored."""
    s = T4Scan.start(templates)
    s.open = True
    for r in rows:
        s.take(r)
    return s


def test_the_layout_comes_from_the_template_data(layout):
    assert layout.opens == "行政复议" and "结果维持" in layout.opens_with
    assert [item for item, _ in layout.row_parts] == ["litigation_after_review", "litigation_direct", "admin_review"]


@pytest.mark.parametrize("label", ["行政复议行政诉讼", "行政复议结果维持结果纠正", "行政复议"])
def test_a_header_naming_its_needles_opens_table_four(label, layout):
    assert opens_t4(label, layout)


@pytest.mark.parametrize("label", ["行政诉讼", "本机关" + "行政复议和行政诉讼" * 8, "说明" + "行政复议"])
def test_narrative_or_a_header_without_the_first_needle_does_not_open_table_four(label, layout):
    assert not opens_t4(label, layout)


def test_other_needles_in_the_template_change_what_opens_table_four(layout):
    other = dataclasses.replace(layout, opens="复议", opens_with=("诉讼",))
    assert opens_t4("复议诉讼", other) and not opens_t4("复议诉讼", layout)


@pytest.mark.parametrize("label, item", [
    ("行政复议", "admin_review"),
    ("行政诉讼未经复议直接起诉", "litigation_direct"),
    ("行政诉讼(未经复议", "litigation_direct"),  # a wrapped label that lost its end
    ("直接起诉)", "litigation_direct"),
    ("行政诉讼复议后起诉", "litigation_after_review"),  # not 行政复议's, though it says 复议
    ("数量", None),
    ("行政复议" + "说明" * 14, None),  # narrative
])
def test_item_for_finds_the_item_by_the_most_specific_part(label, item, layout):
    assert item_for(label, layout) == item


def test_item_for_follows_the_order_of_the_template_parts(layout):
    reordered = T4Layout(layout.opens, layout.opens_with, tuple(reversed(layout.row_parts)))
    assert item_for("复议后起诉行政复议", layout) == "litigation_after_review"
    assert item_for("复议后起诉行政复议", reordered) == "admin_review"


def test_is_column_label_accepts_a_header_cut_short_where_it_wrapped():
    labels = ("结果维持", "结果纠正")
    assert is_column_label("结果维持", labels) and is_column_label("结果维", labels)
    assert not is_column_label("结", labels) and not is_column_label("其他", labels)


def test_a_closed_scan_takes_nothing(templates):
    s = T4Scan.start(templates)
    header = row("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    assert not s.take(header)
    s.open_at("行政复议行政诉讼")
    assert s.open and s.take(header)


def test_the_row_of_fifteen_with_a_short_label_of_its_own_is_the_value_row(templates):
    s = scan(templates, row("件数", *[str(k) for k in range(15)]))
    assert [c.text for _, c, _ in s.found.cells] == [str(k) for k in range(15)]


def test_item_rows_are_kept_per_item(templates):
    s = scan(templates, row("行政复议", *FIVE), row("未经复议直接起诉", *FIVE), row("复议后起诉", *FIVE))
    assert list(s.found.rows) == ["admin_review", "litigation_direct", "litigation_after_review"]


def test_numbers_after_a_blank_item_row_are_that_items_rest(templates):
    blank = row("行政复议", "", "", "", "", "")
    numbers = row("(续)", *FIVE, page=2)
    s = scan(templates, blank, numbers)
    assert s.found.rows["admin_review"] is numbers and not s.found.unplaced


def test_a_blank_labelled_row_gives_the_numbers_row_above_its_item(templates):
    numbers = row("行政诉讼(未", *FIVE, page=1)
    rest = row("经复议直接起诉)", "", "", "", "", "", page=2)
    s = scan(templates, numbers, rest)
    assert s.found.rows["litigation_direct"] is numbers


DASHES = ("—", "—", "—", "—", "—")


def test_a_row_of_dashes_is_complete_so_the_numbers_below_begin_the_next_item(templates):
    """A LibreOffice PDF: 行政复议 printed with dashes, then 行政诉讼（未经复议直接起诉） cut by a
    page break after 行政诉讼 with its numbers. The numbers were 行政复议's (two cells wrong,
    the report `ok`)."""
    review, numbers = row("行政复议", *DASHES, page=3), row("行政诉讼", *FIVE, page=3)
    rest, after = row("(未经复议直接起诉)", "", "", "", "", "", page=4), row("行政诉讼(复议后起诉)", *DASHES, page=4)
    s = scan(templates, review, numbers, rest, after)
    assert s.found.rows == {"admin_review": review, "litigation_direct": numbers, "litigation_after_review": after}


def test_numbers_labelled_as_the_start_of_an_item_row_are_not_the_rest_of_a_blank_row(templates):
    """行政复议 printed with empty cells, then 行政诉讼（未经复议直接起诉） cut after 行政诉讼 with
    its numbers: they are not 行政复议's rest (no rest of 行政复议 names 行政诉讼)."""
    review, numbers = row("行政复议", "", "", "", "", "", page=3), row("行政诉讼", *FIVE, page=3)
    rest, after = row("(未经复议直接起诉)", "", "", "", "", "", page=4), row("行政诉讼(复议后起诉)", *DASHES, page=4)
    s = scan(templates, review, numbers, rest, after)
    assert s.found.rows == {"admin_review": review, "litigation_direct": numbers, "litigation_after_review": after}


def test_the_words_that_begin_an_item_row_come_from_the_template_data(layout):
    assert layout.row_starts == ("行政复议", "行政诉讼")


def test_numbers_that_no_label_names_are_listed_unplaced_never_dropped(templates):
    s = scan(templates, row("甲", *FIVE), row("乙", *FIVE))
    assert s.finish().unplaced == ["甲", "乙"]


def test_a_second_row_of_numbers_for_an_item_is_listed_as_repeated(templates):
    first = row("行政复议", *FIVE)
    s = scan(templates, first, row("行政复议", "2", "0", "0", "0", "2"))
    assert s.found.rows["admin_review"] is first and s.found.repeated == ["admin_review"]


def test_the_blank_rest_of_an_item_row_is_not_a_repeat(templates):
    s = scan(templates, row("行政诉讼(未经复议", *FIVE), row("直接起诉)", "", "", "", "", ""))
    assert s.found.repeated == []


def test_a_blank_value_row_of_fifteen_is_taken_as_the_value_row(templates):
    s = scan(templates, row(*[""] * 15))
    assert len(s.found.cells) == 15


def test_header_rows_give_the_column_centers_until_values_come(templates):
    header = row("结果维持", "结果纠正", "其他结果", "尚未审结", "总计", xs=[10, 20, 30, 40, 50])
    s = scan(templates, header, row("件数", *["1"] * 15), header)
    assert s.found.header == [10, 20, 30, 40, 50]


def test_rows_with_numbers_and_no_item_label_are_left_to_the_other_tables(templates):
    s = T4Scan.start(templates)
    s.open = True
    assert not s.take(row("(一)予以公开", "1", "0", "0", "0", "0", "0", "1"))


def test_slots_of_the_row_of_fifteen_follow_items_then_columns(templates):
    s = scan(templates, row("件数", *[str(k) for k in range(15)]))
    slots, state = t4_slots(s.found, templates)
    assert state == "ok"
    got = {(x.item, x.column): x.cell.text for x in slots}
    assert got[("admin_review", "upheld")] == "0" and got[("litigation_after_review", "total")] == "14"


def test_slots_of_item_rows_flag_an_item_not_printed(templates):
    s = scan(templates, row("行政复议", *FIVE))
    slots, state = t4_slots(s.found, templates)
    assert state == "ok"
    assert all(x.flags == ["not_found"] for x in slots if x.item != "admin_review")
    assert [x.cell.text for x in slots if x.item == "admin_review"] == list(FIVE)


def test_slots_of_a_short_row_without_header_are_short_never_guessed(templates):
    s = scan(templates)
    s.keep_cells(row("", *["1"] * 12))  # 12 cells (and the empty label cell), no header geometry
    slots, state = t4_slots(s.found, templates)
    assert state == "short" and all("short" in x.flags for x in slots if x.cell is None)


def test_nothing_printed_gives_no_slots(templates):
    assert t4_slots(T4Found(), templates) == ([], "missing")
