"""Variants of a real report page that were read with status `ok` and a wrong number
(silent errors), each fixed (tests/fixtures/adversarial, made by its make_fixtures.py):
every one is now read right, or its doubtful cells are flagged and the report `partial`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import FIXTURES, truth_for
from transform.match import header_unit
from transform.numbers import declared_units, parse_amount, parse_count
from transform.pipeline import process_file
from transform.serialize import result_to_json

ADVERSARIAL = sorted(p for p in (FIXTURES / "adversarial").iterdir() if p.suffix in (".html", ".pdf", ".docx"))


def _read(name: str) -> tuple[dict, dict]:
    doc = FIXTURES / "adversarial" / f"{name}.html"
    return result_to_json(process_file(doc)), truth_for(doc)


def _facts(out: dict) -> dict[tuple[str, str, str], dict]:
    return {(f["table"], f["item"], f["column"]): f for f in out["facts"]}


@pytest.mark.parametrize("doc", ADVERSARIAL, ids=lambda p: p.stem)
def test_every_cell_is_the_truth_or_flagged_and_the_status_says_so(doc: Path):
    out, truth = result_to_json(process_file(doc)), truth_for(doc)
    got = _facts(out)
    flagged = {tuple(k) for k in truth["flagged"]}
    assert out["status"] == truth["status"], out["reason"]
    for f in truth["facts"]:
        key = (f["table"], f["item"], f["column"])
        g = got[key]
        if key in flagged:
            assert g["value"] is None and "unreadable" in g["flags"], key
        elif g["value"] is None or f["value"] is None:
            assert g["value"] is None and f["value"] is None or (
                out["status"] != "ok" and {"unreadable", "ambiguous"} & set(g["flags"])), key
        else:
            assert math.isclose(g["value"], f["value"], abs_tol=1e-9), key


def test_amount_without_unit_in_a_document_declaring_yuan_is_flagged_not_read_as_wan_yuan():
    out, _ = _read("fee-unit-caption-2023")
    fee = _facts(out)[("t2", "admin_fees", "amount")]
    assert fee["value"] is None and fee["raw"] == "59490886.67"
    assert out["status"] == "partial" and "amount unit unclear" in out["reason"]


def test_header_naming_yuan_without_brackets_reads_the_amount_in_yuan():
    assert header_unit("信息内容本年收费金额单位:元") == "元"
    assert header_unit("采购总金额(单位:万元)") == "万元"
    out, _ = _read("fee-unit-noparen-2023")
    assert _facts(out)[("t2", "admin_fees", "amount")]["value"] == pytest.approx(5949.088667)
    assert out["status"] == "ok"


def test_declared_units_are_found_in_captions_and_section_rows():
    assert declared_units("二、主动公开政府信息情况\n单位：元\n") == {"元"}
    assert declared_units("第二十条第（八）项（单位：万元）") == {"万元"}
    assert declared_units("本年收费金额（单位：万元）共收取0元") == {"万元"}
    assert declared_units("（单位元）") == {"元"}
    assert declared_units("无单位说明") == frozenset()
    assert declared_units("本单位元旦期间值班") == frozenset()  # 单位 followed by 元旦 declares nothing


def test_amount_whose_printed_header_names_no_unit_is_flagged_unit_assumed():
    # the 2021 form's label names 万元; a header that does not print it is an assumption
    assert parse_amount("12.5", "万元", header_has_unit=False).unit_assumed


def test_count_printed_with_three_decimal_zeros_is_unreadable_not_the_thousands():
    assert parse_count("2.000").kind == "unreadable"
    assert parse_count("2.0").value == 2 and parse_count("2.00").value == 2
    out, _ = _read("count-dot-2023")
    assert _facts(out)[("t2", "admin_license", "decisions")]["value"] is None
    assert out["status"] == "partial"


def test_group_header_naming_other_is_not_the_other_column():
    # 法人或其他组织 contains 其他: taken for the column, the missing column read as blank, status ok
    out, _ = _read("t3-no-other-column-2023")
    assert out["status"] == "partial"
    assert all(f["value"] is None for f in out["facts"] if f["table"] == "t3" and f["column"] == "other_org")


def test_t4_read_by_its_header_when_the_header_reorders_columns():
    for name in ("t4-columns-reordered-2023", "t4-item-rows-reordered-2023"):
        out, truth = _read(name)
        got = _facts(out)
        for f in truth["facts"]:
            if f["table"] == "t4":
                assert got[(f["table"], f["item"], f["column"])]["value"] == f["value"], (name, f)
        assert out["status"] == "ok"


def test_title_naming_another_year_than_the_statistics_period_is_partial():
    out, _ = _read("year-title-2024-2023")
    assert out["status"] == "partial"
    assert "year unclear: the title says 2024, the statistics period 2023" in out["reason"]


def _meta(text: str, **hints):
    from extract.metadata import metadata_from_document
    from extract.models import RawDocument

    return metadata_from_document(RawDocument(Path("x.html"), "html", text, hints=hints))


def test_year_doubted_when_the_page_title_and_the_reports_own_title_disagree():
    meta = _meta("某县财政局2023年政府信息公开工作年度报告\n…\n某县财政局\n2024年1月20日",
                 title="某县财政局2022年政府信息公开工作年度报告")
    # the report's own (visible) title wins, as in a print of the page, which shows it alone
    assert meta.year == 2023 and meta.year_doubt.startswith("year unclear: the page's title says 2022")


def test_year_doubted_when_published_before_the_year_ended():
    meta = _meta("某县财政局2024年政府信息公开工作年度报告\n…\n某县财政局\n2024年1月20日")
    assert meta.year_doubt == "year unclear: the title says 2024, published 2024-01-20"


def test_a_consistent_title_period_and_date_leave_no_doubt():
    meta = _meta("某县财政局2023年政府信息公开工作年度报告\n本报告统计期限自2023年1月1日起至2023年12月31日止。\n"
                 "某县财政局\n2024年1月20日")
    assert meta.year == 2023 and meta.year_doubt is None


def test_a_zero_merged_over_two_columns_is_each_ones_and_another_number_is_no_ones():
    from extract.models import RawCell
    from transform.tidy import assign_cells

    out, _ = _read("t3-merged-zero-2023")
    got = _facts(out)
    assert got[("t3", "denied.state_secret", "research")]["value"] == 0
    assert got[("t3", "denied.state_secret", "social_welfare")]["value"] == 0
    columns = ("a", "b", "c")
    header = {"a": 0.5, "b": 1.5, "c": 2.5}
    assert assign_cells([(RawCell("0", 0, 2), 1), (RawCell("4", 2, 3), 2)], columns, header)[1] == "ok"
    assert assign_cells([(RawCell("1", 0, 2), 1), (RawCell("4", 2, 3), 2)], columns, header) == ({}, "ambiguous")


def test_narrative_naming_both_reviews_and_lawsuits_does_not_open_t4():
    """A PDF's narrative line (…行政复议案件2件、行政诉讼案件7件。) opened 表四, which took 表三's
    header rows: 表三 lost its column positions and a report printing 商业企业 before 自然人
    was read in the form's order, status ok, 24 cells swapped."""
    from transform.t4 import opens_t4
    from transform.templates import load_templates

    layout = load_templates().t4_layout
    assert not opens_t4("件,占2.47%;因政府信息公开引起的行政复议案件2件、行政诉讼案件7件。", layout)
    assert opens_t4("四、政府信息公开行政复议、行政诉讼情况", layout) and opens_t4("行政复议行政诉讼", layout)
    out = result_to_json(process_file(FIXTURES / "adversarial" / "t3-columns-swapped-2023.pdf"))
    got = _facts(out)
    assert got[("t3", "new_received", "natural_person")]["value"] == 80
    assert got[("t3", "new_received", "commercial")]["value"] == 1


def test_a_footnote_mark_printed_by_a_browser_stands_apart_from_the_number():
    """Chromium prints <sup> at 5/6 of the size, raised: 2629 with its mark 1 was read as
    26291 (the size step was taken at 3/4, Word's 2/3)."""
    out = result_to_json(process_file(FIXTURES / "adversarial" / "t2-footnote-mark-2023.pdf"))
    fact = _facts(out)[("t2", "admin_license", "decisions")]
    assert fact["raw"] == "2629 1" and fact["value"] is None and "unreadable" in fact["flags"]
    assert out["status"] == "partial"


def test_a_footnote_mark_written_as_a_raised_run_in_docx_stands_apart_from_the_number():
    """LibreOffice writes <sup> as a raised, smaller run (`w:position`), not `w:vertAlign`:
    2629 with its mark 1 was read as 26291, status ok."""
    out = result_to_json(process_file(FIXTURES / "adversarial" / "t2-footnote-mark-2023.docx"))
    fact = _facts(out)[("t2", "admin_license", "decisions")]
    assert fact["raw"] == "2629 1" and fact["value"] is None and out["status"] == "partial"


def test_a_number_merged_over_two_rows_is_no_one_rows_and_the_reason_names_both_cells():
    for doc in ("t3-rowspan-number-2023.html", "t3-rowspan-number-2023.docx"):
        out = result_to_json(process_file(FIXTURES / "adversarial" / doc))
        got = _facts(out)
        for item in ("denied.third_party", "denied.internal_affairs"):  # was 1 and blank, status ok
            fact = got[("t3", item, "natural_person")]
            assert fact["value"] is None and {"ambiguous", "unreadable"} <= set(fact["flags"]) and fact["raw"] == "1"
        assert out["status"] == "partial", doc
        assert ("a number merged over several rows is no one row's: 表三 denied.third_party.natural_person, "
                "表三 denied.internal_affairs.natural_person") in out["reason"]
    out, _ = _read("t2-rowspan-number-2023")
    assert [_facts(out)[("t2", item, "decisions")]["value"] for item in ("admin_penalty", "admin_coercion")] == [None] * 2


def test_a_zero_merged_over_two_rows_is_each_rows():
    out, _ = _read("t3-rowspan-zero-2023")
    got = _facts(out)
    for item in ("denied.law_prohibited", "denied.security_stability"):  # the second was blank
        assert got[("t3", item, "commercial")]["value"] == 0
    assert out["status"] == "ok"


def test_a_cell_merged_down_leaves_a_stand_in_in_the_rows_it_covers_read_with_its_text():
    import lxml.html

    from extract.html import table_to_raw
    from transform.match import split_row
    from transform.tidy import merged_number

    table = lxml.html.fromstring("<table><tr><td rowspan='3'>（三）</td><td>1.甲</td><td rowspan='2'>5</td><td>0</td></tr>"
                                 "<tr><td>2.乙</td><td>7</td></tr><tr><td>3.丙</td><td>1</td><td>2</td></tr></table>")
    raw = table_to_raw(table, 0)
    second = raw.rows[1].cells
    assert [(c.text, c.x0, c.above is not None) for c in second] == [("", 0, True), ("2.乙", 1, False),
                                                                     ("", 2, True), ("7", 3, False)]
    assert raw.rows[0].cells[2].rows == 2
    row = split_row(raw.rows[1], 0)
    assert row.label == "2.乙" and [c.text for c in row.values] == ["5", "7"]  # the group label stays out
    assert merged_number(row.values[0]) and merged_number(raw.rows[0].cells[2])
    assert not merged_number(raw.rows[0].cells[3])
    assert [c.text for c in split_row(raw.rows[2], 0).values] == ["1", "2"]
    # a row of nothing but stand-ins (Word's HTML: `<tr></tr>` under cells spanning two rows) is no row
    bare = table_to_raw(lxml.html.fromstring("<table><tr><td rowspan='2'>行政许可</td><td rowspan='2'>2629</td></tr>"
                                             "<tr></tr></table>"), 0)
    assert bare.rows[1].cells == [] and bare.rows[0].cells[1].rows == 1 and not merged_number(bare.rows[0].cells[1])


@pytest.mark.parametrize("engine", ["pdfium", "pdfminer"])
def test_digits_a_space_apart_in_a_libreoffice_pdf_are_flagged_or_joined_only_where_the_identities_confirm(engine):
    """LibreOffice prints a space as a gap without a glyph: `2 629` was read as 2629, status
    ok. 表二 has no identity through the cell: flagged. 表三's `8 1` (一、本年新收, 总计) is read
    81 because its row and its column both hold with 81 alone (`place.confirmed_joins`): the
    value the printed cells force, not a guess."""
    from extract import ExtractSettings

    out = result_to_json(process_file(FIXTURES / "adversarial" / "digits-apart-2023.pdf", ExtractSettings(pdf_engine=engine)))
    got = _facts(out)
    license_ = got[("t2", "admin_license", "decisions")]
    assert license_["raw"] == "2 629" and license_["value"] is None and "unreadable" in license_["flags"]
    total = got[("t3", "new_received", "total")]
    assert total["value"] == 81 and "joined" in total["flags"]
    assert out["status"] == "partial" and out["reason"] == "1 cells unreadable"


def test_a_space_between_digits_in_a_pdf_cell_is_kept_and_a_number_is_not():
    from extract.pdf import _line_text, char

    def line(*parts):  # (text, x0) at 10 pt, each digit 5.3 pt wide
        return [char(x, x + 5.3, 100, 110, t, 10) for t, x in parts]

    assert _line_text(line(("2", 0), ("6", 5.3), ("2", 10.6), ("9", 15.9))) == "2629"
    assert _line_text(line(("2", 0), ("6", 5.3 + 2.5), ("2", 10.6 + 2.5), ("9", 15.9 + 2.5))) == "2 629"  # 0.25 em
    assert _line_text(line(("2", 0), ("6", 5.3 + 0.05))) == "26"  # a producer's rounding, not a space


@pytest.mark.parametrize("name", ["t2-footnote-mark-2023", "t3-columns-swapped-2023"])
def test_a_chromium_print_of_the_page_reads_its_publication_time_line(name):
    """The page's `时间：2024-03-08 15:34`: Chromium prints the space as a gap, the reader
    joined `0815:34`, and the date was refused (published null)."""
    out = result_to_json(process_file(FIXTURES / "adversarial" / f"{name}.pdf"))
    assert out["published"] == "2024-03-08"


def test_the_visible_title_names_the_body_in_the_page_and_in_its_chromium_print():
    """The page's <title> and ArticleTitle name 福州市长乐区, the title above the report
    平潭综合实验区: the HTML took the first, its Chromium print the second, both `ok`."""
    page = result_to_json(process_file(FIXTURES / "adversarial" / "title-other-body-2023.html"))
    printed = result_to_json(process_file(FIXTURES / "adversarial" / "title-other-body-printed-2023.pdf"))
    for key in ("agency", "year", "published", "region_code"):
        assert page[key] == printed[key], key
    assert page["agency"] == "平潭综合实验区"
    assert page["status"] == "partial" and page["reason"] == (
        "issuing body unclear: the page's title names 福州市长乐区, the report's own title 平潭综合实验区")
    assert printed["status"] == "ok"  # the print shows the visible title alone


def test_the_title_above_an_html_report_is_taken_before_the_pages_title_and_sidebar_links_above_it():
    meta = _meta("本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。",
                 title="某市2023年政府信息公开工作年度报告",
                 heading="往年报告\n某县财政局2022年政府信息公开工作年度报告\n某县财政局2023年政府信息公开工作年度报告\n发布时间：2024-01-20")
    assert (meta.agency, meta.year, meta.page_agency) == ("某县财政局", 2023, "某市")
    assert meta.year_doubt is None
    alone = _meta("本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。", title="某县财政局2023年政府信息公开工作年度报告")
    assert (alone.agency, alone.year, alone.page_agency) == ("某县财政局", 2023, None)


def test_two_names_are_two_bodies_unless_one_extends_the_other_in_one_division():
    from transform.bodies import other_body, resolve_body

    assert other_body(resolve_body("福州市长乐区"), resolve_body("平潭综合实验区"))
    assert not other_body(resolve_body("平潭综合实验区管委会"), resolve_body("平潭综合实验区"))
    assert not other_body(resolve_body("洪泽区"), resolve_body("淮安市洪泽区人民政府"))
    assert not other_body(resolve_body("XX网-"), resolve_body("平潭综合实验区"))  # no body: says nothing


def _two_rows(value: str, middle_ruled_to: float):
    """A ruled 2 × 2 table: labels 甲 over 乙, one cell `value` in the right column's lower
    band; the ruling between the rows reaches from x = 0 to `middle_ruled_to`."""
    from extract.pdf import char, page_to_rows

    chars = [char(10, 20, 25, 35, "甲", 10), char(10, 20, 5, 15, "乙", 10)]
    chars += [char(140 + 6 * k, 146 + 6 * k, 8, 18, t, 10) for k, t in enumerate(value)]
    hsegs = [(0, 0, 200), (40, 0, 200), (20, 0, middle_ruled_to)]
    vsegs = [(0, 0, 40), (100, 0, 40), (200, 0, 40)]
    return page_to_rows(chars, hsegs, vsegs, 1)


def test_a_value_cell_merged_over_two_ruled_pdf_rows_goes_to_the_top_row_with_a_stand_in_below():
    """Printed from a rowspan (LibreOffice, Chromium), the cell has no ruling under it
    between the rows and its text falls in one row's band: the other row read as blank
    (t2-rowspan-number-2023.pdf: ok; printed by Chromium 行政强制 read 1330)."""
    from transform.tidy import merged_number

    upper, lower = _two_rows("5", middle_ruled_to=100)
    assert [c.text for c in upper.cells] == ["甲", "5"] and upper.cells[1].rows == 2
    assert lower.cells[0].text == "乙" and lower.cells[1].above is upper.cells[1] and merged_number(lower.cells[1])
    ruled_upper, ruled_lower = _two_rows("5", middle_ruled_to=200)  # ruled across: two cells, the upper blank
    assert [c.text for c in ruled_upper.cells] == ["甲", ""] and [c.text for c in ruled_lower.cells] == ["乙", "5"]
    label_upper, label_lower = _two_rows("合计", middle_ruled_to=100)  # a label merged over rows stays as read
    assert label_upper.cells[1].text == "" and label_lower.cells[1].text == "合计"


def test_a_number_merged_over_two_rows_of_a_libreoffice_pdf_is_no_one_rows():
    out = result_to_json(process_file(FIXTURES / "adversarial" / "t2-rowspan-number-2023.pdf"))
    got = _facts(out)
    for item in ("admin_penalty", "admin_coercion"):
        assert got[("t2", item, "decisions")]["value"] is None and got[("t2", item, "decisions")]["raw"] == "1330"
    assert out["status"] == "partial"
