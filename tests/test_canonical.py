"""One report per body and year: a warehouse built by `xxgk run` from an HTML report and
the same report as PDF, a corrected re-upload, a 2018 report, a report with no year and
one whose numbers are drawn as images. Every aggregate view counts canonical reports
only; the others are listed in `duplicates`."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_one_report_per_body_year
from load import connect_readonly
from test_sample_corpus import gen
from test_status_rules import numbers_as_images, yearless_text

ROOT = Path(__file__).resolve().parent.parent
BODY = gen.Body("淮安市洪泽区财政局", "320813", "县级", "department")
OTHER = gen.Body("淮安市洪泽区民政局", "320813", "县级", "department")
CORRECTED_PUBLISHED = dt.date(2023, 2, 20)


def spec(year: int, fmt: str, body=BODY, start: int = 0):
    """A 2021-format report that every reader reads fully (plain digits, zeros printed)."""
    bodies = gen.Bodies()
    i = start
    while True:
        s = gen.build(seed=43, index=i, fmt=fmt, bodies=bodies)
        if s.template == "2021" and not s.missing and not s.broken and not s.style.mixed_other \
                and s.style.zero == "0" and not s.style.fullwidth and s.style.ruled:
            break
        i += 1
    s.year, s.body, s.published = year, body, dt.date(year + 1, 1, 20)
    return s


def bump_first_t2_count(s) -> tuple[str, str]:
    """Change one printed 表二 count (+1) in `s`, as a publisher correcting a typo would;
    returns the (item, column) changed. 表二 counts have no identity within a report."""
    t2 = [f for f in s.facts if f["table"] == "t2"]
    cells = [c for g in s.grids["t2"] for row in g.rows for c in row if c.kind == "num"]
    assert len(cells) == len(t2)
    for f, cell in zip(t2, cells):
        if f["column"] in ("made", "issued", "published") and re.fullmatch(r"\d+", cell.text):
            cell.text = str(int(cell.text) + 1)
            f["value"] = int(cell.text)
            return f["item"], f["column"]
    raise AssertionError("no plain 表二 count to correct")


@pytest.fixture(scope="module")
def wh(tmp_path_factory, prefect_env):
    tmp = tmp_path_factory.mktemp("canonical")
    inbox = tmp / "in"
    inbox.mkdir()
    same = spec(2022, "html")
    (inbox / "2022-page.html").write_bytes(gen.render_html(same))
    (inbox / "2022-attachment.pdf").write_bytes(gen.render_pdf(same))
    first = spec(2021, "html", start=20)
    (inbox / "2021-first.html").write_bytes(gen.render_html(first))
    first.published = CORRECTED_PUBLISHED.replace(year=2022)
    changed = bump_first_t2_count(first)
    (inbox / "2021-corrected.html").write_bytes(gen.render_html(first))
    (inbox / "2019.html").write_bytes(gen.render_html(spec(2019, "html", start=40)))
    (inbox / "2018.html").write_bytes(gen.render_html(spec(2018, "html", start=60)))
    (inbox / "yearless.txt").write_bytes(yearless_text(tmp).read_bytes())
    (inbox / "images.html").write_bytes(numbers_as_images(spec(2023, "html", body=OTHER, start=80)))
    out = tmp / "wh"
    r = subprocess.run([sys.executable, "-m", "flows.cli", "run", str(inbox), "-w", str(out)], capture_output=True,
                       text=True, cwd=ROOT, env=prefect_env, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return {"root": out, "inbox": inbox, "changed": changed, "env": prefect_env}


def q(wh, sql):
    con = connect_readonly(wh["root"])
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def status_of(wh, name):
    (row,) = q(wh, f"select status, reason from documents where source = '{wh['inbox'] / name}'")
    return row


@pytest.mark.slow
def test_an_html_report_and_its_pdf_are_one_canonical_report_and_one_agreeing_duplicate(wh):
    got = q(wh, "select format, canonical, duplicate_of is not null from reports where year = 2022 order by format")
    assert sorted(got) in ([("html", False, True), ("pdf", True, False)], [("html", True, False), ("pdf", False, True)])
    (dup,) = q(wh, "select r.format, d.values_agree, d.duplicate_of = c.report_id from duplicates d "
                   "join reports r using (report_id) join reports c on c.year = 2022 and c.canonical where d.year = 2022")
    assert dup[1:] == (True, True)
    assert q(wh, "select count(*) from report_metrics where year = 2022") == [(1,)]
    assert q(wh, "select count(distinct report_id) from t3_wide where year = 2022") == [(1,)]


@pytest.mark.slow
def test_a_corrected_report_published_later_replaces_the_earlier_one(wh):
    item, column = wh["changed"]
    (canon,) = q(wh, "select report_id, published from reports where year = 2021 and canonical")
    assert canon[1] == CORRECTED_PUBLISHED.replace(year=2022)
    (dup,) = q(wh, "select report_id, duplicate_of, values_agree from duplicates where year = 2021")
    assert dup[1:] == (canon[0], False)
    diff = q(wh, f"""select c."table", c.item, c."column", c.value - d.value from facts c join facts d
                     using ("table", item, "column") where c.report_id = '{canon[0]}' and d.report_id = '{dup[0]}'
                     and c.value is distinct from d.value""")
    assert diff == [("t2", item, column, 1.0)]
    # the canonical report's numbers are disputed by its other copy: report_metrics says so
    assert q(wh, "select disputed from report_metrics where year = 2021") == [(True,)]
    assert q(wh, "select count(*) from report_metrics where disputed and year <> 2021") == [(0,)]


@pytest.mark.slow
def test_a_2018_report_is_unsupported_with_no_facts_and_never_a_cross_year_predecessor(wh):
    status, reason = status_of(wh, "2018.html")
    assert status == "unsupported" and reason.startswith("pre-2019 report (2018)")
    assert q(wh, "select count(*) from reports where year = 2018") == [(0,)]
    assert q(wh, "select count(*) from facts where year = 2018") == [(0,)]
    assert q(wh, "select count(*) from cross_year_checks where year <= 2019") == [(0,)]
    # consecutive canonical years of the body are compared, following body_id
    assert q(wh, "select distinct body_id, year from cross_year_checks order by 2") == [
        ("320813-洪泽区财政局", 2022)]


@pytest.mark.slow
def test_a_report_with_no_year_is_partial_with_a_null_year_and_not_counted(wh):
    status, reason = status_of(wh, "yearless.txt")
    assert status == "partial" and "report year not found" in reason
    assert q(wh, "select year, canonical, duplicate_of from reports where year is null") == [(None, False, None)]
    for view in ("facts", "checks"):
        assert q(wh, f"select count(*) from {view} where year = 0 or data_year = 0") == [(0,)]
        assert q(wh, f"select count(*) > 0 from {view} where year is null") == [(True,)]
    assert q(wh, "select count(*) from report_metrics where year is null") == [(0,)]


@pytest.mark.slow
def test_numbers_drawn_as_images_are_missing_cells_of_a_partial_report(wh):
    status, reason = status_of(wh, "images.html")
    assert status == "partial" and "number cells empty while labels are printed" in reason
    flags = q(wh, """select "table", bool_and(list_contains(flags, 'missing')), bool_and(value is null),
                     bool_or(blank) from facts join reports using (report_id)
                     where agency = '淮安市洪泽区民政局' and "table" in ('t3', 't4') group by 1 order by 1""")
    assert flags == [("t3", True, True, False), ("t4", True, True, False)]


@pytest.mark.slow
def test_every_view_has_one_report_per_body_and_year_and_bodies_lists_the_body(wh):
    assert_one_report_per_body_year(wh["root"])
    r = subprocess.run([sys.executable, "-m", "flows.cli", "query",
                        "select body_id, year, count(*) from report_metrics group by all having count(*) > 1",
                        "-w", str(wh["root"]), "--format", "json"], capture_output=True, text=True, cwd=ROOT,
                       env=wh["env"], check=False)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr
    (body,) = q(wh, "select names, region_code, level, kind, years_reported, reports, other_copies from bodies "
                    "where body_id = '320813-洪泽区财政局'")
    assert body == (["淮安市洪泽区财政局"], "320813", "县级", "department", [2019, 2021, 2022], 3, 3)  # 2 duplicates, 1 yearless
    assert json.loads(json.dumps(q(wh, "select count(*) from duplicates")))[0] == [2]


def test_an_ok_report_stays_canonical_over_a_later_partial_copy(tmp_path):
    from load import load_results
    from test_views import report
    from transform.pipeline import process_file

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    good, _, _ = report(tmp_path / "a", 0, 2022, dt.date(2023, 1, 20))
    later_partial, _, _ = report(tmp_path / "b", 3, 2022, dt.date(2023, 3, 1), broken=1.0)
    results = [process_file(good), process_file(later_partial)]
    assert [r.status for r in results] == ["ok", "partial"]
    copy = tmp_path / "c" / good.name  # the same bytes under another source: one report
    copy.write_bytes(good.read_bytes())
    load_results(tmp_path / "wh", results + [process_file(copy)])
    wh = {"root": tmp_path / "wh"}
    assert q(wh, "select status, canonical, duplicate_of is not null from reports order by status") == [
        ("ok", True, False), ("partial", False, True)]
    assert q(wh, "select status, canonical_status, values_agree from duplicates") == [("partial", "ok", False)]
    assert_one_report_per_body_year(tmp_path / "wh")
