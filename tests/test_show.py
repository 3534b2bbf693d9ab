"""`xxgk show`: one report's 表二/表三/表四 laid out as the national form prints them."""

from __future__ import annotations

import openpyxl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from load.show import Cell, FailedCheck, failed_cells, lay_out
from test_labels import build_warehouse


def labels(table):
    return [r.label for r in table.rows]


def test_t3_prints_numbered_rows_under_the_result_headings_of_the_2021_form():
    facts = {("t3", "granted", "natural_person"): Cell(3.0), ("t3", "other.fee_unpaid", "total"): Cell(1.0),
             ("t3", "other.no_correction", "total"): Cell(0.0), ("t3", "other.other", "total"): Cell(0.0)}
    _, t3, _ = lay_out(facts, "2021", [])
    rows = labels(t3)
    assert t3.header == ("", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
    assert rows[:4] == ["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果", "（一）予以公开"]
    assert rows[-2:] == ["（七）总计", "四、结转下年度继续办理"]
    assert rows[rows.index("（三）不予公开") + 1] == "1.属于国家秘密"
    i = rows.index("（六）其他处理")
    assert t3.rows[i].heading and rows[i + 2].startswith("2.申请人逾期未按收费通知要求缴纳费用")
    assert rows[i + 3] == "3.其他"  # the template's label carries its number: printed once
    assert t3.rows[3].cells[0].value == 3.0 and t3.rows[0].cells[0].flags == ("not_found",)


def test_t3_keeps_the_single_other_row_a_mixed_2021_report_printed():
    facts = {("t3", "other", "total"): Cell(0.0), ("t3", "granted", "total"): Cell(0.0)}
    _, t3, _ = lay_out(facts, "2021", [])
    assert "（六）其他处理" in labels(t3) and not any(r.startswith("1.申请人无正当理由") for r in labels(t3))


def test_t2_marks_cells_the_form_does_not_have():
    facts = {("t2", "rules", "issued"): Cell(2.0), ("t2", "admin_license", "decisions"): Cell(5.0)}
    t2, _, _ = lay_out(facts, "2021", [])
    assert t2.header == ("", "本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量")
    rules = t2.rows[0]
    assert rules.label == "规章" and rules.cells[0].value == 2.0 and rules.cells[3].absent
    assert rules.cells[1].flags == ("not_found",)


def test_failed_identities_mark_the_row_or_column_total_they_name():
    failed = [FailedCheck("t3_row_total", "t3.granted", 0, 3, -3), FailedCheck("t3_balance", "t3.commercial", 1, 2, -1),
              FailedCheck("t4_row_total", "t4.admin_review", 1, 0, 1), FailedCheck("non_negative_integer", "t2", None, None, None)]
    assert failed_cells(failed) == {("t3", "granted", "total"), ("t3", "total_processed", "commercial"),
                                    ("t4", "admin_review", "total")}
    _, t3, t4 = lay_out({}, "2019", failed)
    granted = t3.rows[labels(t3).index("（一）予以公开")]
    assert granted.cells[-1].failed and not granted.cells[0].failed
    assert t4.rows[0].cells[-1].failed


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("show"))


def test_show_by_body_and_year_prints_the_three_tables(wh):
    r = CliRunner().invoke(app, ["show", "--body", "中卫市机关事务", "--year", "2020", "-w", str(wh)], terminal_width=200)
    assert r.exit_code == 0, r.output
    for text in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况",
                 "政府集中采购", "506.48", "自然人", "（七）总计", "结果纠正"):
        assert text in r.output, text


def test_show_names_the_candidates_when_several_reports_match(wh):
    r = CliRunner().invoke(app, ["show", "--body", "洪泽区财政局", "-w", str(wh)])
    assert r.exit_code == 2 and "2 reports match" in r.output


def test_show_to_xlsx_writes_three_sheets_as_printed(wh, tmp_path):
    path = tmp_path / "r.xlsx"
    r = CliRunner().invoke(app, ["show", "--body", "洪泽区财政局", "--year", "2023", "--to", "xlsx", "-o", str(path),
                                 "-w", str(wh)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["表二", "表三", "表四"]
    t3 = wb["表三"]
    assert "2023年 三、收到和处理政府信息公开申请情况" in t3["A1"].value
    assert [c.value for c in t3[2]][1:] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    assert t3["A3"].value == "一、本年新收政府信息公开申请数量" and isinstance(t3["H3"].value, int)


def test_show_of_a_report_that_does_not_exist_is_a_one_line_usage_error(wh):
    for args in (["--body", "不存在局", "--year", "2022"], ["deadbeefdeadbeef"], ["--body", "[red]x'", "--year", "2020"]):
        r = CliRunner().invoke(app, ["show", *args, "-w", str(wh)], terminal_width=300)
        assert r.exit_code == 2 and "no report matches" in r.output and "Traceback" not in r.output


def test_report_into_a_path_that_is_a_file_is_a_usage_error_and_writes_nothing(wh, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep")
    r = CliRunner().invoke(app, ["report", "-o", str(target), "-w", str(wh)], terminal_width=300)
    assert r.exit_code == 2 and "is not a directory" in r.output and target.read_text() == "keep"
