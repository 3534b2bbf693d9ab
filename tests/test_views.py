"""The analysts' views against hand-computed values, stale parser versions, exports, and a
load killed mid-write."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REAL, SEED, assert_one_report_per_body_year
from flows.cli import app
from load import connect_readonly, load_results, vacuum
from test_sample_corpus import gen
from transform.pipeline import process_file

ROOT = Path(__file__).resolve().parent.parent
BODY = gen.Body("淮安市洪泽区财政局", "320813", "县级", "department")


def report(tmp: Path, index: int, year: int, published: dt.date, body=BODY, broken: float = 0.0):
    """A generated text report of `body` for `year` (2021 format); returns (path, truth values)."""
    bodies = gen.Bodies()
    i = index
    while True:
        spec = gen.build(seed=41, index=i, fmt="text", broken_share=broken, bodies=bodies)
        if spec.template == "2021" and not spec.missing and not spec.style.mixed_other and bool(spec.broken) == bool(broken):
            break
        i += 1
    spec.year, spec.body, spec.published = year, body, published
    path = tmp / f"{body.name}-{year}.txt"
    path.write_bytes(gen.render_text(spec))
    values = defaultdict(dict)
    for f in spec.facts:
        values[(f["table"], f["item"])][f["column"]] = f["value"] or 0
    return path, values, spec


def rows(wh, sql):
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_cross_year_checks_compare_carry_over_and_rules_in_force_between_consecutive_years(tmp_path):
    p22, v22, _ = report(tmp_path, 0, 2022, dt.date(2023, 1, 20))
    p23, v23, _ = report(tmp_path, 7, 2023, dt.date(2024, 1, 25))
    load_results(tmp_path / "wh", [process_file(p22), process_file(p23)])
    got = {(rule, scope): (lhs, rhs, diff, passed) for rule, scope, lhs, rhs, diff, passed in rows(
        tmp_path / "wh", "select rule, scope, lhs, rhs, difference, passed from cross_year_checks where year = 2023")}
    expected = {}
    for col in gen.T3_COLUMNS:
        lhs, rhs = v23[("t3", "carried_over")][col], v22[("t3", "carried_forward")][col]
        expected[("t3_carry_over", col)] = (lhs, rhs, lhs - rhs, lhs == rhs)
    for item in ("rules", "normative_docs"):
        lhs = v23[("t2", item)]["in_force"]
        rhs = v22[("t2", item)]["in_force"] + v23[("t2", item)]["issued"] - v23[("t2", item)]["repealed"]
        expected[("t2_in_force", item)] = (lhs, rhs, lhs - rhs, lhs == rhs)
    assert got == expected
    assert any(not passed for *_, passed in expected.values())  # a real carry-over mismatch is reported
    assert rows(tmp_path / "wh", "select count(*) from cross_year_checks where year = 2022") == [(0,)]
    assert_one_report_per_body_year(tmp_path / "wh")


def test_failed_checks_show_a_broken_identity_with_its_difference(tmp_path):
    path, values, spec = report(tmp_path, 3, 2022, dt.date(2023, 1, 10), broken=1.0)
    load_results(tmp_path / "wh", [process_file(path)])
    (broken,) = spec.broken
    rule, where = broken.split(":")
    failed = rows(tmp_path / "wh", "select rule, scope, lhs, rhs, difference from failed_checks")
    if rule == "t3_row_total":
        lhs, rhs = values[("t3", where)]["total"], sum(values[("t3", where)][c] for c in gen.APPLICANTS)
        assert (rule, f"t3.{where}", lhs, rhs, lhs - rhs) in failed
    elif rule == "t4_row_total":
        v = values[("t4", where)]
        lhs, rhs = v["total"], sum(v[c] for c in gen.T4_COLUMNS[:4])
        assert (rule, f"t4.{where}", lhs, rhs, lhs - rhs) in failed
    else:
        assert rule in {r[0] for r in failed} and any(r[1] == f"t3.{where}" for r in failed)
    assert rows(tmp_path / "wh", "select status from reports") == [("partial",)]


def test_late_reports_apply_the_deadline_of_the_body_kind(tmp_path):
    dept, _, _ = report(tmp_path, 0, 2023, dt.date(2024, 2, 20))  # department: due 31 January
    gov_body = gen.Body("淮安市洪泽区人民政府", "320813", "县级", "government")
    gov, _, _ = report(tmp_path, 5, 2023, dt.date(2024, 3, 15), body=gov_body)  # government: due 31 March
    load_results(tmp_path / "wh", [process_file(dept), process_file(gov)])
    assert rows(tmp_path / "wh", "select agency, deadline, days_late from late_reports") == [
        ("淮安市洪泽区财政局", dt.date(2024, 1, 31), 20)]


def test_report_metrics_by_hand_on_the_seed_and_real_reports(tmp_path):
    load_results(tmp_path, [process_file(p) for p in [SEED, *REAL]])
    m = {r[0]: r[1:] for r in rows(tmp_path, "select agency, applications_received, total_processed, "
                                              "disclosure_rate, region_code from report_metrics")}
    assert m["中卫市机关事务服务中心"][:2] == (0, 0) and m["中卫市机关事务服务中心"][2] is None
    assert m["平潭综合实验区"][1] == 81 and abs(m["平潭综合实验区"][2] - 42 / 81) < 1e-12
    assert m["淮安市洪泽区人民政府"][1:] == (95, pytest.approx(59 / 95), "320813")
    assert_one_report_per_body_year(tmp_path)


@pytest.mark.slow
def test_stale_documents_list_what_an_older_parser_wrote_and_run_stale_reextracts_them(tmp_path, prefect_env):
    old = process_file(SEED)
    old.report.parser_version = old.document.parser_version = "0.0.9"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    failed = process_file(empty)
    failed.document.parser_version = "0.0.9"
    load_results(tmp_path, [old, failed, process_file(REAL[0])])
    assert sorted(rows(tmp_path, "select source, status, parser_version from stale_documents")) == sorted(
        [(str(SEED), "ok", "0.0.9"), (str(empty), "failed", "0.0.9")])
    r = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--stale", "-w", str(tmp_path)], cwd=ROOT,
                       env=prefect_env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert rows(tmp_path, "select count(*) from stale_documents") == [(0,)]
    assert rows(tmp_path, "select count(*) from reports") == [(2,)]


def test_reload_replaces_rows_and_old_files_are_vacuumed(tmp_path):
    load_results(tmp_path, [process_file(p) for p in REAL])
    load_results(tmp_path, [process_file(REAL[0])])
    assert rows(tmp_path, "select count(*) from facts") == [(200 + 186 + 198,)]
    vacuum(tmp_path, grace_seconds=0)  # a file with no current row waits out its grace period first
    assert rows(tmp_path, "select count(*) from _raw_facts") == [(200 + 186 + 198,)]  # nothing stale kept
    assert rows(tmp_path, "select count(distinct batch_id) from reports") == [(2,)]


def test_compact_merges_files_and_keeps_every_current_row(tmp_path):
    for p in [SEED, *REAL]:
        load_results(tmp_path, [process_file(p)])
    before = rows(tmp_path, "select report_id, \"table\", item, \"column\", value from facts order by all")
    res = CliRunner().invoke(app, ["compact", "-w", str(tmp_path), "--grace", "0"])
    assert res.exit_code == 0, res.output
    assert rows(tmp_path, "select report_id, \"table\", item, \"column\", value from facts order by all") == before
    assert len(list((tmp_path / "documents").glob("*.parquet"))) == 1
    assert_one_report_per_body_year(tmp_path)
    assert rows(tmp_path, "select count(distinct batch_id) from _raw_facts") == [(1,)]


def test_export_filters_by_province_and_year_and_writes_xlsx_csv_parquet(tmp_path):
    load_results(tmp_path, [process_file(p) for p in [SEED, *REAL]])
    runner = CliRunner()
    x = tmp_path / "m.xlsx"
    r = runner.invoke(app, ["export", "report_metrics", "--province", "江苏", "-o", str(x), "-w", str(tmp_path)])
    assert r.exit_code == 0, r.output
    import openpyxl

    sheet = openpyxl.load_workbook(x).active
    data = list(sheet.values)
    assert data[0][:2] == ("report_id", "agency") and [row[1] for row in data[1:]] == ["淮安市洪泽区人民政府"]
    c = tmp_path / "f.csv"
    r = runner.invoke(app, ["export", "facts", "--to", "csv", "--year", "2020", "-o", str(c), "-w", str(tmp_path)])
    assert r.exit_code == 0 and len(c.read_text(encoding="utf-8").splitlines()) == 198 + 1
    q = tmp_path / "r.parquet"
    r = runner.invoke(app, ["query", "select agency from reports order by 1", "-f", "parquet", "-o", str(q), "-w", str(tmp_path)])
    assert r.exit_code == 0
    import pyarrow.parquet as pq

    assert pq.read_table(q).column("agency").to_pylist() == sorted(
        ["中卫市机关事务服务中心", "平潭综合实验区", "淮安市洪泽区人民政府", "上海市人民政府办公厅"])


KILLER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    import load.warehouse as w
    from transform.pipeline import process_file
    real = w.write_atomic
    def slow(path, data, metadata=None):
        real(path, data, metadata)
        if path.parts[-3] == "reports":          # facts, checks and reports written, not committed
            Path({marker!r}).write_text("ready")
            time.sleep(60)
    w.write_atomic = slow
    w.load_results(Path({wh!r}), [process_file(Path(p)) for p in {docs!r}])
""")


def test_a_load_killed_mid_write_leaves_the_previous_data_and_a_rerun_completes_it(tmp_path):
    wh = tmp_path / "wh"
    load_results(wh, [process_file(SEED)])
    before = rows(wh, "select count(*), sum(value) from facts")
    files_before = set(wh.rglob("*.parquet"))
    marker = tmp_path / "ready"
    script = KILLER.format(root=str(ROOT), marker=str(marker), wh=str(wh), docs=[str(p) for p in REAL])
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "writer did not get to the kill point"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    left = {p.relative_to(wh).parts[0] for p in set(wh.rglob("*.parquet")) - files_before}
    assert left == {"facts", "checks", "reports"}  # the killed load left its files behind (no documents file)…
    assert rows(wh, "select count(*), sum(value) from facts") == before  # …that nobody sees
    assert rows(wh, "select count(*) from documents") == [(1,)]
    load_results(wh, [process_file(p) for p in REAL])  # re-running completes it
    assert rows(wh, "select count(*) from facts") == [(198 + 200 + 186 + 198,)]
    vacuum(wh, grace_seconds=0)  # the killed load's files, once their grace period is over
    assert rows(wh, "select count(*) from _raw_facts") == [(198 + 200 + 186 + 198,)]
    assert_one_report_per_body_year(wh)


def test_quarantine_lists_failed_documents_with_reason_and_where_they_are_kept(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    from flows.items import WorkItem
    from flows.run import extract_items

    results, _ = extract_items([WorkItem.of_file(bad), WorkItem.of_file(SEED)], {}, str(tmp_path / "wh"))
    load_results(tmp_path / "wh", results)
    res = CliRunner().invoke(app, ["quarantine", "-w", str(tmp_path / "wh"), "-f", "json"])
    assert res.exit_code == 0, res.output
    import json

    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert row["source"] == str(bad) and row["status"] == "failed" and "PDF" in row["reason"]
    kept = tmp_path / "wh" / row["raw_path"]
    assert kept.read_bytes() == bad.read_bytes()  # quarantine is a status, the bytes are kept
