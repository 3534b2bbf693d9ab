"""Labels and the data dictionary: the printed 中文 labels of every code, per template
version, in the `facts` and `dictionary` views and in docs/data-dictionary.md; every
report-level view says which body, region, level and year a row is about."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import SEED
from load import connect_readonly, load_results
from load.labels import DictionarySpecError, dictionary_entries, dictionary_markdown, fact_labels, load_dictionary
from transform.pipeline import process_file

ROOT = Path(__file__).resolve().parent.parent
REPORT_VIEWS = ("report_metrics", "t3_wide", "failed_checks", "late_reports", "cross_year_checks")
REPORT_COLUMNS = {"body_id", "agency", "region_name", "region_code", "level", "year"}


def build_warehouse(tmp: Path) -> Path:
    """The 2020 seed (2019 format) and one body's 2022 and 2023 reports (2021 format)."""
    from test_views import report

    p22, _, _ = report(tmp, 0, 2022, dt.date(2023, 1, 20))
    p23, _, _ = report(tmp, 7, 2023, dt.date(2024, 3, 25))
    wh = tmp / "wh"
    load_results(wh, [process_file(SEED), process_file(p22), process_file(p23)])
    return wh


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("labels"))


def rows(wh, sql):
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_docs_data_dictionary_is_the_generated_one():
    text = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert text == dictionary_markdown(), "run: uv run xxgk dictionary --markdown > docs/data-dictionary.md"


def test_dictionary_refuses_a_template_code_without_meaning(tmp_path):
    src = (ROOT / "data" / "dictionary.toml").read_text(encoding="utf-8")
    bad = tmp_path / "dictionary.toml"
    bad.write_text(src.replace('"denied.admin_query" = ', '"denied.no_such_code" = '), encoding="utf-8")
    with pytest.raises(DictionarySpecError, match=r"denied\.admin_query"):
        load_dictionary(bad)


def test_dictionary_gives_each_version_its_printed_label():
    by = {(e.table, e.kind, e.code, e.versions): e for e in dictionary_entries()}
    assert by[("t2", "item", "normative_docs", ("2019",))].label == "规范性文件"
    assert by[("t2", "item", "normative_docs", ("2021",))].label == "行政规范性文件"
    assert by[("t2", "column", "amount", ("2021",))].unit == "万元"
    assert by[("t3", "item", "denied.state_secret", ("2019", "2021"))].label == "属于国家秘密"
    assert by[("t3", "item", "other", ("2019",))].meaning
    assert by[("t4", "column", "corrected", ("2019", "2021"))].label == "结果纠正"


def test_fact_labels_are_unique_per_table_item_column_and_version():
    keys = [(f.table, f.item, f.column, f.version) for f in fact_labels()]
    assert len(keys) == len(set(keys))


def test_every_fact_carries_the_labels_of_its_reports_template_version(wh):
    assert rows(wh, "select count(*) from facts where item_label is null or column_label is null") == [(0,)]
    got = dict(((t, y), lab) for t, y, lab in rows(
        wh, "select r.template, f.year, any_value(f.item_label) from facts f join reports r using (report_id) "
            "where f.\"table\" = 't2' and f.item = 'normative_docs' group by all"))
    assert got == {("2019", 2020): "规范性文件", ("2021", 2022): "行政规范性文件", ("2021", 2023): "行政规范性文件"}
    assert rows(wh, "select item_label, column_label from facts where \"table\" = 't3' and item = 'new_received' "
                    "and \"column\" = 'natural_person' limit 1") == [("本年新收政府信息公开申请数量", "自然人")]


def test_dictionary_view_lists_every_code_with_label_and_meaning(wh):
    got = rows(wh, "select \"table\", kind, code, label, versions, unit, meaning from dictionary")
    assert len(got) == len(dictionary_entries())
    assert ("t3", "column", "natural_person", "自然人", ["2019", "2021"], None, "Applicant: natural person") in got
    assert all(r[3] and r[6] for r in got)


@pytest.mark.parametrize("view", REPORT_VIEWS)
def test_report_level_view_says_body_agency_region_level_and_year(wh, view):
    cols = {r[0] for r in rows(wh, f"describe select * from {view}")}
    assert REPORT_COLUMNS <= cols


def test_report_level_views_have_rows_with_the_bodys_region(wh):
    for view in ("report_metrics", "t3_wide", "cross_year_checks", "late_reports"):
        got = rows(wh, f"select distinct region_name, region_code, level from {view} where body_id like '320813-%'")
        assert got == [("江苏省淮安市洪泽区", "320813", "县级")], view
