"""Files that open right in Excel: CSV with a BOM, xlsx with widths, frozen header,
autofilter, integers as integers, rates as percentages, dates as dates, Chinese headers."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from load.excel import Sheet, cell_value, write_xlsx
from test_labels import build_warehouse

SHEET = Sheet("xxgk", ["agency", "year", "applications_received", "disclosure_rate", "published", "amount"],
              [("中卫市机关事务服务中心", 2020, 12.0, 0.3840206185567011, dt.date(2021, 1, 21), 506.48),
               ("洪泽区财政局", 2022, None, None, None, 1.5)])


def test_cell_value_keeps_integers_whole_and_drops_time_zones():
    assert cell_value(12.0) == 12 and isinstance(cell_value(12.0), int)
    assert cell_value(float("nan")) is None
    assert cell_value(dt.datetime(2024, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == dt.datetime(2024, 1, 1)
    assert cell_value(["a", "b"]) == "a, b"


def test_xlsx_has_typed_cells_percentages_dates_widths_frozen_header_and_filter(tmp_path):
    path = tmp_path / "m.xlsx"
    write_xlsx(path, [SHEET])
    ws = openpyxl.load_workbook(path)["xxgk"]
    assert [c.value for c in ws[1]] == SHEET.columns
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F3"
    assert ws["C2"].value == 12 and isinstance(ws["C2"].value, int) and ws["C2"].number_format == "0"
    assert ws["D2"].value == pytest.approx(0.3840206185567011) and ws["D2"].number_format == "0.0%"
    assert ws["E2"].is_date and ws["E2"].value == dt.datetime(2021, 1, 21)
    assert ws["F2"].value == 506.48
    assert ws.column_dimensions["A"].width >= 2 * len("中卫市机关事务服务中心")


def test_xlsx_labels_zh_gives_chinese_headers(tmp_path):
    path = tmp_path / "m.xlsx"
    write_xlsx(path, [SHEET], labels="zh")
    heads = [c.value for c in openpyxl.load_workbook(path)["xxgk"][1]]
    assert heads[:4] == ["机关名称", "年度", "本年新收申请", "公开率（予以公开+部分公开）"]
    assert heads[5] == "amount"  # no Chinese header known: the code


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("excel"))


def test_export_csv_starts_with_a_bom_unless_no_bom(wh, tmp_path):
    runner = CliRunner()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    r = runner.invoke(app, ["export", "report_metrics", "--to", "csv", "-o", str(a), "-w", str(wh)])
    assert r.exit_code == 0, r.output
    assert a.read_bytes().startswith(b"\xef\xbb\xbfreport_id,agency,")
    r = runner.invoke(app, ["export", "report_metrics", "--to", "csv", "-o", str(b), "--no-bom", "--labels", "zh",
                            "-w", str(wh)])
    assert r.exit_code == 0, r.output
    assert b.read_bytes().startswith("报告ID,机关名称,".encode())
    assert len(b.read_text(encoding="utf-8").splitlines()) == 4


def test_export_xlsx_of_report_metrics_opens_with_rates_as_percentages(wh, tmp_path):
    path = tmp_path / "m.xlsx"
    r = CliRunner().invoke(app, ["export", "report_metrics", "-o", str(path), "-w", str(wh), "--labels", "zh"])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(path)["xxgk"]
    heads = [c.value for c in ws[1]]
    rate = heads.index("公开率（予以公开+部分公开）") + 1
    received = heads.index("本年新收申请") + 1
    rows = [r for r in ws.iter_rows(min_row=2) if r[received - 1].value]
    assert rows and all(isinstance(r[received - 1].value, int) for r in rows)
    assert all(r[rate - 1].number_format == "0.0%" for r in rows if r[rate - 1].value is not None)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_over_an_existing_file_replaces_it_whole(wh, tmp_path, fmt):
    # DuckDB stages an overwrite in tmp_NAME, outside the sandbox's allowed paths: the
    # second export of a file used to fail with "file system operations are disabled"
    path = tmp_path / f"m.{fmt}"
    for _ in range(2):
        r = CliRunner().invoke(app, ["export", "report_metrics", "--to", fmt, "-o", str(path), "-w", str(wh)])
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m.{fmt}"]  # nothing staged left behind


def test_query_output_over_an_existing_file_replaces_it(wh, tmp_path):
    path = tmp_path / "q.csv"
    for n in (1, 2):
        r = CliRunner().invoke(app, ["query", f"SELECT {n} AS n", "-o", str(path), "-w", str(wh)])
        assert r.exit_code == 0, r.output
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["n", "2"]


def test_csv_prints_counts_as_whole_numbers_and_amounts_with_their_decimals(wh, tmp_path):
    path = tmp_path / "t3.csv"
    r = CliRunner().invoke(app, ["export", "t3_wide", "--to", "csv", "-o", str(path), "-w", str(wh)])
    assert r.exit_code == 0, r.output
    import csv

    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows and all("." not in row["new_received"] for row in rows if row["new_received"])
    r = CliRunner().invoke(app, ["query", "SELECT 3.0::DOUBLE AS n, 2.5::DOUBLE AS a", "-f", "csv", "-w", str(wh)])
    assert r.stdout.splitlines() == ["n,a", "3,2.5"]


def test_labels_zh_translates_codes_in_status_kind_and_applicant_columns_and_yes_no(wh, tmp_path):
    path = tmp_path / "t3.csv"
    r = CliRunner().invoke(app, ["export", "t3_wide", "--to", "csv", "-o", str(path), "-w", str(wh), "--labels", "zh"])
    assert r.exit_code == 0, r.output
    import csv

    applicants = {row["申请人"] for row in csv.DictReader(path.open(encoding="utf-8-sig"))}
    m = tmp_path / "m.csv"
    r = CliRunner().invoke(app, ["export", "report_metrics", "--to", "csv", "-o", str(m), "-w", str(wh), "--labels", "zh"])
    assert {row["副本数值不一致"] for row in csv.DictReader(m.open(encoding="utf-8-sig"))} <= {"是", "否"}
    assert applicants and applicants <= {"自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"}
    path = tmp_path / "r.xlsx"
    r = CliRunner().invoke(app, ["export", "reports", "-o", str(path), "-w", str(wh), "--labels", "zh"])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(path)["xxgk"]
    heads = [c.value for c in ws[1]]
    status = {row[heads.index("状态")].value for row in ws.iter_rows(min_row=2)}
    kind = {row[heads.index("机关类型")].value for row in ws.iter_rows(min_row=2)}
    assert status and status <= {"完整", "部分可用", "失败", "不支持"}
    assert kind <= {"人民政府", "部门", None}
    assert {row[heads.index("是否采用")].value for row in ws.iter_rows(min_row=2)} <= {"是", "否"}


def test_every_column_of_every_public_view_has_a_chinese_header(wh):
    from load.duckdb import connect_readonly
    from load.excel import HEADERS_ZH

    con = connect_readonly(wh)
    try:
        views = [v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
                 if not v.startswith("_")]
        missing = {(v, c) for v in views for (c, *_) in con.execute(f'DESCRIBE "{v}"').fetchall() if c not in HEADERS_ZH}
    finally:
        con.close()
    assert not missing


def test_query_output_takes_its_format_from_the_file_extension(wh, tmp_path):
    import pyarrow.parquet as pq

    for name in ("q.parquet", "q.xlsx"):
        r = CliRunner().invoke(app, ["query", "SELECT 1 AS n", "-o", str(tmp_path / name), "-w", str(wh)])
        assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "q.parquet").to_pylist() == [{"n": 1}]
    assert openpyxl.load_workbook(tmp_path / "q.xlsx")["xxgk"]["A2"].value == 1


def test_a_missing_warehouse_or_an_unknown_province_is_a_one_line_usage_error(wh, tmp_path):
    for args in (["query", "SELECT 1", "-w", str(tmp_path / "none")],
                 ["export", "reports", "-w", str(tmp_path / "none")]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2 and r.output.startswith("error: no warehouse at"), r.output
    r = CliRunner().invoke(app, ["export", "reports", "--province", "火星", "-w", str(wh)])
    assert r.exit_code == 2 and r.output.startswith("error: unknown province '火星'"), r.output
