"""Every example of README.md's "Example queries" returns rows on the demo warehouse (the
bundled sample, loaded as `xxgk demo` loads it), and the demo shows what analysts need:
bodies with consecutive years, cross-year checks, late reports, a corrected duplicate."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import SAMPLE_DIR, app
from flows.discover import discover_files
from load import connect_readonly, load_results
from transform.pipeline import process_file

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
EXAMPLES = README[README.index("### Example queries"):README.index("## Crawling")]
COMMANDS = [line.removeprefix("uv run xxgk ") for line in EXAMPLES.splitlines() if line.startswith("uv run xxgk ")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    wh = tmp_path_factory.mktemp("demo") / "warehouse"
    load_results(wh, [process_file(p) for p in discover_files([SAMPLE_DIR])])
    return wh


def rows(wh, sql):
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_readme_has_the_examples():
    assert len(COMMANDS) >= 12 and any(c.startswith("show ") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[:60])
def test_readme_example_returns_rows_on_the_demo_warehouse(demo, command, tmp_path, monkeypatch):
    args = shlex.split(command)
    monkeypatch.chdir(tmp_path)
    if args[0] == "query" and "-o" not in args:
        assert rows(demo, args[1]), command
        return
    r = CliRunner().invoke(app, args + ["-w", str(demo)], terminal_width=200)
    assert r.exit_code == 0, r.output
    if "-o" in args:
        out = tmp_path / args[args.index("-o") + 1]
        assert out.stat().st_size > 0
        m = re.search(r"wrote (\d+) rows", r.output)
        assert m is None or int(m.group(1)) > 0, r.output
    else:
        assert "三、收到和处理政府信息公开申请情况" in r.output


def test_python_example_returns_rows(demo):
    con = connect_readonly(demo)
    try:
        assert len(con.sql("select * from t3_wide where applicant = 'total'").df()) > 0
    finally:
        con.close()


def test_demo_has_bodies_with_three_consecutive_years_and_their_cross_year_checks(demo):
    assert rows(demo, "select count(*) from bodies where len(years_reported) >= 3") == [(2,)]
    got = rows(demo, "select rule, count(*), count(*) filter (where not passed) from cross_year_checks group by 1 order by 1")
    assert got == [("t2_in_force", 4, 0), ("t3_carry_over", 28, 2)]
    assert rows(demo, "select agency, year from late_reports where agency = '永泰县财政局'") == [("永泰县财政局", 2023)]
    assert rows(demo, "select year from duplicates where not values_agree") == [(2020,)]
