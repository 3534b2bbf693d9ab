"""A run that does not finish still leaves its `runs` row, saying how it ended (terminated by
SIGTERM, interrupted by Ctrl-C, failed on an error) and counting what it committed before it
stopped. Through the real CLI: tests/killer.py stops `xxgk` at a named point (no hooks in
production code). A SIGKILL leaves no row (nothing runs after it): tests/test_crash.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REAL, SEED
from load import connect_readonly

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def drop(tmp_path):
    """A folder of four documents (the extract point is passed once per document)."""
    d = tmp_path / "drop"
    d.mkdir()
    shutil.copy(SEED, d / SEED.name)
    (d / "again.txt").write_bytes(SEED.read_bytes() + b"\n")  # other bytes, the same report
    for p in [p for p in REAL if p.suffix == ".html"][:2]:
        shutil.copy(p, d / p.name)
    return d


def xxgk(*args, env: dict, stop_at: str | None = None) -> subprocess.CompletedProcess:
    cli = [sys.executable, str(ROOT / "tests" / "killer.py"), stop_at, "--"] if stop_at else \
        [sys.executable, "-m", "flows.cli"]
    return subprocess.run([*cli, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def runs(wh: Path) -> list[dict]:
    con = connect_readonly(wh)
    try:
        cur = con.execute("SELECT * FROM runs ORDER BY started_at")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        con.close()


def count(wh: Path, sql: str) -> int:
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def env(tmp_path):
    """No Prefect server: `--no-prefect` runs in the command's process."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    return {**{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, "PREFECT_HOME": str(home)}


def test_a_run_terminated_while_extracting_leaves_a_terminated_row_that_loaded_nothing(drop, tmp_path, env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, stop_at="extract:2@TERM")
    assert r.returncode == 143 and "terminated" in r.stderr, r.stderr[-2000:]
    [row] = runs(wh)
    assert (row["flow"], row["outcome"]) == ("run", "terminated")
    assert "SIGTERM" in row["error"] and "nothing of its load was committed" in row["error"]
    assert (row["ok"], row["partial"], row["failed"], row["facts_loaded"]) == (0, 0, 0, 0)
    assert row["documents"] is None  # how many were read before the stop is not known: not 0
    assert row["paths_skipped"] == 0 and row["skipped"] == []
    assert count(wh, "SELECT count(*) FROM documents") == 0
    # the writer lock was released and nothing half-written stays: the next run loads all
    again = xxgk("run", drop, "-w", wh, "--no-prefect", env=env)
    assert again.returncode == 0 and "being written by" not in again.stderr, again.stderr[-2000:]
    assert count(wh, "SELECT count(*) FROM documents") == 4
    last = runs(wh)[-1]
    assert (last["outcome"], last["error"], last["documents"]) == ("finished", None, 4)
    assert xxgk("verify", "-w", wh, env=env).returncode == 0


def test_a_run_terminated_right_after_its_commit_counts_what_it_committed(drop, tmp_path, env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, stop_at="commit@TERM")
    assert r.returncode == 143, r.stderr[-2000:]
    [row] = runs(wh)
    assert row["outcome"] == "terminated" and "nothing of its load" not in row["error"]
    assert row["documents"] == 4 == count(wh, "SELECT count(*) FROM documents")
    assert row["ok"] + row["partial"] + row["quarantined"] == 4
    assert row["facts_loaded"] == count(wh, "SELECT count(*) FROM facts") > 0
    assert r.stderr.strip().splitlines()[-1] == \
        f"terminated: 4 documents committed, {row['facts_loaded']} facts (run {row['run_id']} recorded in runs)"


def test_a_run_terminated_before_its_flow_began_still_leaves_a_row(drop, tmp_path, env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, stop_at="discover@TERM")
    assert r.returncode == 143, r.stderr[-2000:]
    [row] = runs(wh)
    assert row["outcome"] == "terminated" and row["error"].endswith("(before the flow began)")
    assert row["facts_loaded"] == 0 and row["documents"] is None and row["fetched_new"] == 0


def test_a_run_stopped_by_ctrl_c_leaves_an_interrupted_row(drop, tmp_path, env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, stop_at="extract:1@INT")
    assert r.returncode == 130, r.stderr[-2000:]
    [row] = runs(wh)
    assert row["outcome"] == "interrupted" and "Ctrl-C" in row["error"] and row["facts_loaded"] == 0
    # and says so on stderr, in one line naming the row (typer alone exits 130 silently)
    assert r.stderr.strip().splitlines()[-1] == \
        f"interrupted: 0 documents committed, 0 facts (run {row['run_id']} recorded in runs)"


def test_a_run_ended_by_an_internal_error_leaves_a_failed_row_naming_the_error(drop, tmp_path, env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, stop_at="extract:3@ERROR")
    assert r.returncode == 1 and "internal error" in r.stderr, r.stderr[-2000:]
    [row] = runs(wh)
    assert row["outcome"] == "failed" and row["error"].startswith("RuntimeError: killer.py: an internal error")
    assert row["facts_loaded"] == 0 and count(wh, "SELECT count(*) FROM documents") == 0


def test_the_error_of_a_run_is_one_line_however_many_lines_its_exception_holds():
    from flows.ending import ERROR_CHARS, outcome_of

    exc = RuntimeError("\n  bad_alloc in onnxruntime\nTraceback (most recent call last):\n  File ...")
    assert outcome_of(exc) == ("failed", "RuntimeError: bad_alloc in onnxruntime")
    outcome, error = outcome_of(ValueError("x" * 1000 + "\nsecond line"))
    assert "\n" not in error and len(error) == ERROR_CHARS and error.endswith("…")
    assert outcome_of(KeyError()) == ("failed", "KeyError")


def test_a_process_that_records_many_runs_keeps_only_a_count_and_the_last_row(drop, tmp_path, env):
    """A long `xxgk serve` process writes a row every night: what it keeps of them must not
    grow (it kept every run id in a list)."""
    from flows.work import WRITTEN, run_local

    before = WRITTEN.count
    ids = [run_local([str(drop)], str(tmp_path / "wh")).run_id for _ in range(3)]
    assert WRITTEN.count == before + 3 and WRITTEN.last.run_id == ids[-1]
    assert sorted(r["run_id"] for r in runs(tmp_path / "wh")) == sorted(ids)  # one row each, none twice


def test_runs_files_written_before_the_outcome_column_still_read_with_it_null(drop, tmp_path, env):
    wh = tmp_path / "wh"
    assert xxgk("run", drop, "-w", wh, "--no-prefect", env=env).returncode == 0
    [path] = (wh / "runs").glob("*.parquet")
    old = pq.read_table(path).drop_columns(["outcome", "error"])
    old = old.cast(pa.schema([f.with_nullable(False) if f.type != pa.string() and not pa.types.is_list(f.type) else f
                              for f in old.schema]))  # as the old writer declared them
    pq.write_table(old, path)
    [row] = runs(wh)
    assert row["outcome"] is None and row["error"] is None and row["documents"] == 4
    r = xxgk("query", "SELECT count(*) AS n FROM runs WHERE outcome IS NULL", "-w", wh, "-f", "csv", env=env)
    assert r.returncode == 0 and r.stdout.splitlines()[1:] == ["1"], r.stderr


@pytest.mark.slow
def test_a_prefect_run_terminated_while_extracting_leaves_a_terminated_row(drop, tmp_path, prefect_env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--prefect", env=prefect_env, stop_at="extract:2@TERM")
    assert r.returncode == 143 and "terminated" in r.stderr, r.stderr[-2000:]
    [row] = runs(wh)
    assert row["outcome"] == "terminated" and row["facts_loaded"] == 0 and row["documents"] is None


@pytest.mark.slow
def test_a_nightly_terminated_while_crawling_leaves_a_row_whose_fetch_counts_are_unknown(tmp_path, prefect_env):
    from govsite import Site

    site = Site().start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(site.sources_toml(), encoding="utf-8")
        wh = tmp_path / "wh"
        r = xxgk("nightly", "-s", reg, "-w", wh, env=prefect_env, stop_at="fetch:2@TERM")
    finally:
        site.stop()
    assert r.returncode == 143, r.stderr[-2000:]
    [row] = runs(wh)
    assert (row["flow"], row["outcome"]) == ("nightly", "terminated")
    assert row["fetched_new"] is None and row["fetch_failed"] is None  # not 0: the crawl did fetch
    assert row["facts_loaded"] == 0 and not (wh / "documents").exists()
