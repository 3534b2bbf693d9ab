"""Parquet partitions + DuckDB views: idempotent reloads, failures as records, atomic writes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from conftest import REAL, SEED, assert_one_report_per_body_year
from load import connect_readonly, load_results
from load.parquet import clean_temporaries
from transform.pipeline import process_file

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def counts(wh):
    con = connect_readonly(wh)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in ("documents", "reports", "facts", "checks")}
    finally:
        con.close()


def test_reloading_the_same_documents_leaves_the_same_rows(tmp_path):
    docs = [SEED, *REAL]
    load_results(tmp_path, [process_file(p) for p in docs])
    first = counts(tmp_path)
    load_results(tmp_path, [process_file(p) for p in docs])
    assert counts(tmp_path) == first
    assert first["reports"] == 4 and first["facts"] == 198 + 186 + 200 + 198
    assert_one_report_per_body_year(tmp_path)


def test_corrupt_file_is_a_failed_document_and_the_rest_load(tmp_path):
    bad = tmp_path / "in" / "broken.pdf"
    bad.parent.mkdir()
    bad.write_bytes(b"%PDF-1.4 garbage")
    wh = tmp_path / "wh"
    load_results(wh, [process_file(bad), process_file(SEED)])
    con = connect_readonly(wh)
    rows = con.sql("select status, reason from documents where source like '%broken.pdf'").fetchall()
    assert rows and rows[0][0] == "failed" and "PDF" in rows[0][1]
    assert con.execute("select count(*) from facts").fetchall()[0][0] == 198
    by_year = con.sql("select data_year, count(*) from facts group by 1").fetchall()
    assert by_year == [(2020, 198)]


def test_views_are_queryable_on_an_empty_warehouse(tmp_path):
    load_results(tmp_path, [])
    assert counts(tmp_path) == {"documents": 0, "reports": 0, "facts": 0, "checks": 0}
    assert_one_report_per_body_year(tmp_path)
    con = connect_readonly(tmp_path)
    for view in ("duplicates", "bodies", "cross_year_checks", "late_reports", "t3_wide"):
        assert con.execute(f"select count(*) from {view}").fetchall() == [(0,)], view


def test_query_connection_is_read_only(tmp_path):
    load_results(tmp_path, [process_file(SEED)])
    con = connect_readonly(tmp_path)
    try:
        con.execute("create table x (a int)")
        raise AssertionError("write succeeded")
    except duckdb.Error as exc:
        assert "read-only" in str(exc).lower()


def test_leftover_temporary_files_are_cleaned_and_never_read(tmp_path):
    load_results(tmp_path, [process_file(SEED)])
    part = next((tmp_path / "facts").rglob("*.parquet"))
    (part.parent / f".{part.name}.dead.tmp").write_bytes(b"half a file")
    assert counts(tmp_path)["facts"] == 198
    assert clean_temporaries(tmp_path) == 1


def test_report_metrics_on_real_reports(tmp_path):
    load_results(tmp_path, [process_file(p) for p in REAL])
    con = connect_readonly(tmp_path)
    m = dict(con.sql("select agency, disclosure_rate from report_metrics").fetchall())
    assert abs(m["平潭综合实验区"] - 42 / 81) < 1e-9
    assert abs(m["淮安市洪泽区人民政府"] - 59 / 95) < 1e-9
    assert_one_report_per_body_year(tmp_path)


def test_a_second_writer_waits_then_refuses_clearly_and_writes_nothing(tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pytest

    from load import WarehouseBusy

    load_results(tmp_path, [process_file(SEED)])
    before = counts(tmp_path)
    root = Path(__file__).resolve().parent.parent
    holder = subprocess.Popen([sys.executable, "-c", (
        f"import sys, time; sys.path.insert(0, {str(root)!r}); from load import write_lock\n"
        f"with write_lock({str(tmp_path)!r}):\n    print('locked', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t = time.monotonic()
        with pytest.raises(WarehouseBusy, match="locked by another run"):
            load_results(tmp_path, [process_file(p) for p in REAL], wait_seconds=1.0)
        assert time.monotonic() - t >= 1.0  # it waited first
    finally:
        holder.kill()
        holder.wait()
    assert counts(tmp_path) == before
    load_results(tmp_path, [process_file(p) for p in REAL], wait_seconds=5.0)  # the lock died with its holder
    assert counts(tmp_path)["reports"] == 4


def test_an_analysts_open_connection_neither_blocks_a_load_nor_sees_a_half_built_file(tmp_path):
    docs = sorted(SAMPLE.glob("gen-2026-0000[0-3]*"))
    docs = [d for d in docs if not d.name.endswith(".truth.json")]
    load_results(tmp_path, [process_file(docs[0])])
    analyst = duckdb.connect(str(tmp_path / "xxgk.duckdb"), read_only=True)  # a notebook left open
    analyst.execute(f"SET file_search_path = '{tmp_path}'")  # its views are relative to the warehouse
    try:
        before = analyst.execute("SELECT count(*) FROM reports").fetchone()[0]
        load_results(tmp_path, [process_file(d) for d in docs[1:]])  # must not fail on the file lock
        assert analyst.execute("SELECT count(*) FROM reports").fetchone()[0] >= before
    finally:
        analyst.close()
    fresh = duckdb.connect(str(tmp_path / "xxgk.duckdb"), read_only=True)
    fresh.execute(f"SET file_search_path = '{tmp_path}'")
    assert fresh.execute("SELECT count(*) FROM reports").fetchone()[0] == len(docs)
    fresh.close()
    assert not list(tmp_path.glob(".*.tmp*"))


def test_reports_written_before_body_id_existed_read_it_as_null_and_are_not_counted(tmp_path):
    import pyarrow.parquet as pq

    from load.duckdb import refresh_views

    load_results(tmp_path, [process_file(SEED)])
    for path in (tmp_path / "reports").rglob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["body_id", "cells_read"]), path)
    refresh_views(tmp_path)
    con = connect_readonly(tmp_path)
    try:
        assert con.execute("select body_id, cells_read, canonical from reports").fetchall() == [(None, None, False)]
        assert con.execute("select count(*) from report_metrics").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_run_summary_being_written_is_not_cleaned_by_another_runs_load(tmp_path):
    # a run writes its `runs` row without the writer lock; another run's clean-up under the
    # lock removed the half-written file and the first run failed on its rename
    runs = tmp_path / "runs"
    runs.mkdir()
    fresh = runs / ".20261130T221937-abc123.parquet.x.tmp"
    fresh.write_bytes(b"being written")
    old = runs / ".20261129T000000-def456.parquet.y.tmp"
    old.write_bytes(b"left by a killed run")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert clean_temporaries(tmp_path) == 1
    assert fresh.exists() and not old.exists()
