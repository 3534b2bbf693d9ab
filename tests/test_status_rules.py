"""Who, when and what: `ok` needs body, year and template; pre-2019 reports are
unsupported before matching; number cells that are empty while labels are printed are
`missing`, not blank."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import RawCell, RawDocument, RawRow, RawTable
from test_sample_corpus import gen
from transform.missing import REASON, flag_missing, missing_tables, unknown_checks
from transform.pipeline import process_file, report_year, table_problems
from transform.pre2019 import legacy_header, pre_2019_reason
from transform.records import CheckResult, Fact, SourceContext

BODY = gen.Body("淮安市洪泽区财政局", "320813", "县级", "department")


def fact(table: str, item: str, raw: str | None, value: float | None = None, flags=()) -> Fact:
    blank = raw is None or raw in ("", "—", "/", "无")
    return Fact("r", table, item, "total", value, None, raw, blank=blank and value is None,
                flags=list(flags) or (["blank"] if blank and value is None else []))


def table(t: str, raws: list[str | None]) -> list[Fact]:
    return [fact(t, f"i{k}", r, None if r in (None, "", "—") else float(r)) for k, r in enumerate(raws)]


# ---------------------------------------------------------------- missing.py on tiny inputs

def test_tables_with_nothing_in_any_number_cell_are_missing_not_blank():
    facts = table("t2", ["5", "7", None]) + table("t3", [None] * 4) + table("t4", [None] * 4)
    flagged, tables = flag_missing(facts)
    assert tables == ["t3", "t4"]
    gone = [f for f in flagged if f.table in tables]
    assert all(f.flags == ["missing"] and f.value is None and not f.blank for f in gone)
    assert [f.flags for f in flagged if f.table == "t2"] == [[], [], ["blank"]]  # t2 prints numbers
    assert [f.flags for f in facts if f.table == "t3"] == [["blank"]] * 4  # the input is not changed


def test_an_explicit_dash_or_zero_is_a_value_not_missing():
    assert missing_tables(table("t3", ["—"] + [None] * 3) + table("t4", [None] * 4)) == []
    assert missing_tables(table("t3", ["0"] * 4) + table("t4", ["0"] * 4)) == []


def test_a_publisher_that_leaves_zeros_empty_has_its_empty_table_read_as_blank():
    # 表三 holds numbers and empty cells side by side: empty means zero here
    assert missing_tables(table("t3", ["3", None, "1", None]) + table("t4", [None] * 4)) == []


def test_an_empty_table_beside_a_table_that_prints_every_zero_is_missing():
    assert missing_tables(table("t3", ["3", "0", "1", "0"]) + table("t4", [None] * 4)) == ["t4"]


def test_rows_not_found_and_tiny_tables_say_nothing():
    facts = table("t3", ["3", "0"]) + [fact("t4", "x", None, flags=["not_found"])] * 6 + table("t2", [None, None])
    assert missing_tables(facts) == []


def test_identities_over_a_missing_table_are_unknown_not_passes():
    checks = [CheckResult("r", "t4_row_total", 4, "t4", "t4.x", 0, 0, 0, True),
              CheckResult("r", "t3_balance", 1, "t3", "t3.total", 1, 1, 0, True)]
    got = unknown_checks(checks, ["t4"])
    assert [(c.table, c.passed) for c in got] == [("t4", None), ("t3", True)]


# ---------------------------------------------------------------- pre2019.py

def test_the_old_statistics_table_header_is_recognised():
    assert legacy_header(["统计指标", "单位", "统计数"])
    assert legacy_header(["统 计 指 标", "单位", "数量"])
    assert not legacy_header(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])


def test_the_year_decides_before_the_shape():
    old = RawDocument(Path("x"), "html", "", [RawTable([RawRow([RawCell("统计指标"), RawCell("单位"),
                                                                  RawCell("统计数")])])])
    assert pre_2019_reason(2018, RawDocument(Path("x"), "html", "")).startswith("pre-2019 report (2018)")
    assert pre_2019_reason(2020, old) is None
    assert pre_2019_reason(None, old).startswith("pre-2019 report (year not stated)")
    assert pre_2019_reason(None, RawDocument(Path("x"), "html", "")) is None


def test_the_year_comes_from_the_document_else_from_the_crawl_link():
    assert report_year(2022, SourceContext("2021年报", 2021)) == 2022
    assert report_year(None, SourceContext("2021年报", 2021)) == 2021
    assert report_year(None, None) is None


# ---------------------------------------------------------------- whole documents

def spec_for(year: int, fmt: str = "text", index: int = 0):
    bodies = gen.Bodies()
    i = index
    while True:
        spec = gen.build(seed=41, index=i, fmt=fmt, bodies=bodies)
        if spec.template == "2021" and not spec.missing and not spec.style.mixed_other and not spec.broken \
                and spec.style.zero in ("0", "—"):
            break
        i += 1
    spec.body = BODY
    spec.year = year
    return spec


def yearless_text(tmp: Path, year: int = 2023) -> Path:
    text = gen.render_text(spec_for(year)).decode("utf-8").replace(f"{year}年", "本年")
    path = tmp / "yearless.txt"
    path.write_text(text, encoding="utf-8")
    return path


def numbers_as_images(spec) -> bytes:
    for t in ("t3", "t4"):
        for grid in spec.grids[t]:
            for row in grid.rows:
                for cell in row:
                    if cell.kind == "num":
                        cell.text = ""
    return gen.render_html(spec)


def test_a_2018_report_is_unsupported_with_no_facts_and_no_checks(tmp_path):
    path = tmp_path / "2018.txt"
    path.write_bytes(gen.render_text(spec_for(2018)))
    res = process_file(path)
    assert res.status == "unsupported" and res.report.reason.startswith("pre-2019 report (2018)")
    assert res.facts == [] and res.checks == [] and res.report.year == 2018


def test_a_report_with_no_year_is_partial_with_a_null_year(tmp_path):
    res = process_file(yearless_text(tmp_path))
    assert res.status == "partial" and res.report.year is None
    assert "report year not found" in res.report.reason
    assert res.report.body_id == "320813-洪泽区财政局"


def test_a_report_with_no_year_takes_the_year_of_its_crawl_link(tmp_path):
    res = process_file(yearless_text(tmp_path), context=SourceContext("洪泽区财政局2023年报", 2023))
    assert (res.status, res.report.year, res.report.reason) == ("ok", 2023, None)


def test_a_report_with_no_body_is_not_ok(tmp_path):
    path = tmp_path / "nobody.txt"
    path.write_text(gen.render_text(spec_for(2023)).decode("utf-8").replace(BODY.name, ""), encoding="utf-8")
    res = process_file(path)
    assert res.status == "partial" and "issuing body not found" in res.report.reason


def test_numbers_drawn_as_images_make_the_report_partial_with_missing_cells(tmp_path):
    path = tmp_path / "images.html"
    path.write_bytes(numbers_as_images(spec_for(2023, "html")))
    res = process_file(path)
    assert res.status == "partial" and REASON in res.report.reason
    by_table = {t: [f for f in res.facts if f.table == t] for t in ("t2", "t3", "t4")}
    assert by_table["t3"] and all("missing" in f.flags and f.value is None for f in by_table["t3"] + by_table["t4"])
    assert not any("missing" in f.flags for f in by_table["t2"])
    assert all(c.passed is None for c in res.checks if c.table in ("t3", "t4"))


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_a_good_report_is_still_ok(tmp_path, fmt):
    spec = spec_for(2023, fmt)
    path = tmp_path / f"good.{'txt' if fmt == 'text' else fmt}"
    path.write_bytes(gen.render_html(spec) if fmt == "html" else gen.render_text(spec))
    res = process_file(path)
    assert (res.status, res.report.year, res.report.body_id) == ("ok", 2023, "320813-洪泽区财政局")
    assert not any("missing" in f.flags for f in res.facts)


def test_a_report_whose_body_names_no_one_body_is_partial_with_the_reason():
    from transform.pipeline import identity_problems

    assert identity_problems("淮安市洪泽区财政局", 2021, "2021", "320813-洪泽区财政局") == []
    (problem,) = identity_problems("朝阳区人民政府", 2021, "2021", None)
    assert problem.startswith("issuing body not placed: '朝阳区人民政府'") and "data/bodies.toml" in problem
    assert identity_problems("]财政局", 2021, "2021", None) == ["issuing body name not readable: ']财政局'"]


# ---------------------------------------------------------------- table_problems on tiny inputs

def _ocr(f: Fact, confidence: float = 0.99) -> Fact:
    f.flags = sorted({*f.flags, "ocr"})
    f.confidence = confidence
    return f


def _derived(f: Fact, value: float) -> Fact:
    f.value, f.derived, f.blank, f.flags = value, True, False, ["derived"]
    return f


def test_a_scanned_report_with_a_cell_solved_from_the_identities_is_not_ok():
    # OCR saw 3 and 3 but nothing where the third cell is: the identities say 0, yet a missed
    # dash (blank) and a missed 0 look the same, and the identity no longer checks anything
    facts = [_ocr(fact("t2", "a", "3", 3.0)), _ocr(fact("t2", "b", "3", 3.0)), _derived(fact("t2", "c", None), 0.0)]
    problems = table_problems(facts, [], {"t2", "t3", "t4"}, [])
    assert problems == ["1 cells not seen in the scan (solved from the identities, flagged derived)"]


def test_a_text_layer_report_with_a_cell_solved_from_the_identities_stays_ok():
    # a text layer prints what there is: six numbers for seven columns is the document's layout
    facts = [fact("t2", "a", "3", 3.0), fact("t2", "b", "3", 3.0), _derived(fact("t2", "c", None), 0.0)]
    assert table_problems(facts, [], {"t2", "t3", "t4"}, []) == []
