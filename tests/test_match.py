"""The matcher's steps (transform/match.py), each on a few hand-made rows."""

from __future__ import annotations

import pytest

from extract.models import RawCell, RawRow
from transform.match import (
    Locator,
    candidates_with_wrapped,
    choose_candidate,
    detect_t2_version,
    join_page_split,
    locate,
    rejoin_orphan,
    split_row,
    wrapped_label,
)
from transform.templates import load_templates

T3_HEADER = ("", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def specs(templates):
    return {"t2": templates.t2["2021"], "t3": templates.t3}


def row(*texts: str, page: int | None = None, index: int = 0, xs: list[float] | None = None):
    """A split row of plain cells; `xs` gives each cell a center (10 wide)."""
    cells = [RawCell(t) if xs is None else RawCell(t, x - 5, x + 5) for t, x in zip(texts, xs or [None] * len(texts))]
    return split_row(RawRow(cells, page=page, index=index), 0)


def t3(label: str, *values: str, page: int | None = None, index: int = 0):
    return row(label, *(values or ("1", "0", "0", "0", "0", "0", "1")), page=page, index=index)


def test_split_row_label_runs_to_the_last_text_cell_and_values_follow():
    r = row("（一）", "予以公开", "3", "", "2")
    assert r.label == "(一)予以公开"
    assert [c.text for c in r.values] == ["3", "", "2"]
    assert r.value_offset == 2 and r.has_number


def test_split_row_without_numbers_has_no_number():
    r = row("予以公开", "", "—")
    assert [c.text for c in r.values] == ["", "—"] and not r.has_number


def test_wrapped_label_is_the_rows_own_when_it_has_one():
    assert wrapped_label("予以公开", ["本年新收"], in_t4=False) == "予以公开"


def test_wrapped_label_of_a_row_without_label_is_the_lines_carried_from_above():
    assert wrapped_label("", ["本年新收政府信息", "公开申请数量"], in_t4=False) == "本年新收政府信息公开申请数量"


def test_wrapped_label_is_never_carried_inside_table_four():
    assert wrapped_label("", ["本年新收"], in_t4=True) == ""


def test_candidates_put_the_carried_lines_in_front_when_the_own_label_names_nothing(specs):
    label, cands = candidates_with_wrapped("政府信息公开申请数量", "政府信息公开申请数量", ["本年新收"], specs)
    assert label == "本年新收政府信息公开申请数量"
    assert max(cands)[1:] == ("t3", "new_received")


def test_candidates_ignore_the_carried_lines_when_the_own_label_matches(specs):
    label, cands = candidates_with_wrapped("予以公开", "予以公开", ["本年新收"], specs)
    assert label == "予以公开" and [c[1:] for c in cands] == [("t3", "granted")]


def test_choose_candidate_takes_the_longest_label_variant():
    assert choose_candidate([(2, "t3", "a"), (6, "t3", "b")], seen={}) == ("t3", "b")


def test_choose_candidate_prefers_an_item_not_seen_between_equally_long_ones():
    cands = [(4, "t3", "a"), (4, "t3", "b")]
    assert choose_candidate(cands, seen={("t3", "a"): None}) == ("t3", "b")
    assert choose_candidate(cands, seen={}) == ("t3", "a")


def test_join_page_split_joins_the_two_parts_of_a_row_split_by_a_page_break():
    first = t3("（五）不予", "3", "", "", "", "", "", "", page=1)
    second = t3("处理", "", "1", "", "", "", "", "4", page=2)
    merged = join_page_split(first, second)
    assert merged.label == "(五)不予处理"
    assert [c.text for c in merged.values] == ["3", "1", "", "", "", "", "4"]
    assert merged.raw.page == 1


@pytest.mark.parametrize("why, second", [
    ("same page", t3("处理", "", "1", "", "", "", "", "4", page=1)),
    ("not the next page", t3("处理", "", "1", "", "", "", "", "4", page=3)),
    ("a cell filled in both parts", t3("处理", "2", "", "", "", "", "", "4", page=2)),
    ("another number of cells", t3("处理", "", "1", page=2)),
])
def test_join_page_split_refuses_parts_that_cannot_be_one_row(why, second):
    first = t3("（五）不予", "3", "", "", "", "", "", "", page=1)
    assert join_page_split(first, second) is None, why


def test_rejoin_orphan_takes_the_joined_row_when_its_label_matches_at_least_as_well(specs):
    orphan = t3("（三）不予公开 1.属于国家", "1", "", "", "", "", "", "", page=1)
    rest = t3("秘密", "", "", "", "", "", "", "1", page=2)
    got, label, cands = rejoin_orphan(orphan, rest, rest.label, [], specs)
    assert label.endswith("属于国家秘密") and max(cands)[1:] == ("t3", "denied.state_secret")
    assert [c.text for c in got.values] == ["1", "", "", "", "", "", "1"]


def test_rejoin_orphan_keeps_the_row_when_the_parts_do_not_join(specs):
    orphan = t3("无关的一行", "1", "", page=1)
    rest = t3("予以公开", page=2)
    cands = [(4, "t3", "granted")]
    assert rejoin_orphan(orphan, rest, "予以公开", cands, specs) == (rest, "予以公开", cands)


def test_read_header_remembers_column_positions_for_the_next_rows(templates):
    loc = Locator(templates, "2021")
    loc.read_header(row(*T3_HEADER, xs=[10, 100, 110, 120, 130, 140, 150, 160]), [])
    assert loc.headers["t3"]["natural_person"] == (2, 100) and loc.headers["t3"]["total"] == (2, 160)


def test_read_header_keeps_the_last_two_short_lines_for_a_wrapped_label(templates):
    loc = Locator(templates, "2021")
    loc.read_header(row("第三行"), ["第一行", "第二行"])
    assert loc.pending == ["第二行", "第三行"]


def test_read_header_takes_the_unit_an_amount_header_prints(templates):
    loc = Locator(templates, "2021")
    loc.read_header(row("采购总金额（单位：元）"), [])
    assert loc.amount_unit == "元"


def test_detect_t2_version_reads_the_column_headers_before_the_year(templates):
    needles = templates.detect["2019"]
    rows = [row(needles[0])]
    assert detect_t2_version(rows, templates, 2023) == "2019"
    assert detect_t2_version([row("无关")], templates, 2023) == "2021"


def test_locate_matches_rows_by_label_not_by_position(templates):
    loc = locate([row(*T3_HEADER), t3("（二）部分公开"), t3("（一）予以公开")], templates, 2021)
    assert loc.items[("t3", "partially_granted")].row.raw.cells[0].text == "（二）部分公开"
    assert loc.items[("t3", "granted")].row.raw.cells[0].text == "（一）予以公开"


def test_locate_matches_a_row_whose_label_wrapped_over_the_lines_above(templates):
    rows = [row("一、本年新收政府"), row("信息公开申请数量"), t3("")]
    loc = locate(rows, templates, 2021)
    assert ("t3", "new_received") in loc.items


def test_locate_matches_a_typo_by_similarity_with_the_next_item(templates):
    loc = locate([t3("（一）予以公开"), t3("（二）部分公囗")], templates, 2021)
    ir = loc.items[("t3", "partially_granted")]
    assert ir.fuzzy and not loc.items[("t3", "granted")].fuzzy


def test_locate_joins_a_blank_row_with_its_numbers_on_the_next_page(templates):
    rows = [t3("（五）不予处理 1.信访举报", "", "", "", "", "", "", "", page=1),
            t3("投诉类申请", "2", "", "", "", "", "", "2", page=2)]
    loc = locate(rows, templates, 2021)
    ir = loc.items[("t3", "not_processed.petition")]
    assert [c.text for c in ir.row.values] == ["2", "", "", "", "", "", "2"]
    assert len(loc.items) == 1


def test_locate_joins_an_unmatched_row_with_its_rest_on_the_next_page(templates):
    rows = [t3("（三）不予公开 1.属于国家", "1", "", "", "", "", "", "", page=1),
            t3("秘密", "", "", "", "", "", "", "1", page=2)]
    loc = locate(rows, templates, 2021)
    assert [c.text for c in loc.items[("t3", "denied.state_secret")].row.values] == ["1", "", "", "", "", "", "1"]


def test_locate_lists_a_second_row_for_an_item_and_keeps_the_first(templates):
    rows = [t3("（一）予以公开", "1", "0", "0", "0", "0", "0", "1"),
            t3("（一）予以公开", "5", "0", "0", "0", "0", "0", "5")]
    loc = locate(rows, templates, 2021)
    assert loc.duplicates == [("t3", "granted")]
    assert loc.items[("t3", "granted")].row.values[0].text == "1"


def test_locate_gives_table_four_its_value_row_and_table_three_closes_it(templates):
    t4_values = [str(k) for k in range(15)]
    rows = [row("行政复议", "行政诉讼"), row("", *t4_values), t3("（一）予以公开"), row("", "7", "8")]
    loc = locate(rows, templates, 2021)
    assert [c.text for _, c, _ in loc.t4.cells if c.text] == t4_values  # not the row after 表三's
    assert ("t3", "granted") in loc.items


def test_fuzzy_fallback_looks_only_at_the_next_two_items(templates):
    # after 予以公开 come 部分公开 and 属于国家秘密; a typo of 三安全一稳定 (the fourth) is not taken
    typo = t3("3.危及\"三安全一稳走\"")
    loc = locate([t3("（一）予以公开"), typo], templates, 2021)
    assert list(loc.items) == [("t3", "granted")]
    loc = locate([t3("1.属于国家秘密"), t3("2.其他法律行政法规禁止公开"), typo], templates, 2021)
    assert loc.items[("t3", "denied.security_stability")].fuzzy  # the next item: taken


def test_a_row_matching_nothing_before_any_table_is_kept_as_a_possible_first_part(templates):
    locator = Locator(templates, "2021")
    r = t3("无关的一行")
    locator.feed(r)
    assert locator.orphan is r and not locator.out.items
