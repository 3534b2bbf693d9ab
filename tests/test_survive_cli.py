"""Issue 14 through the real CLI (the in-process versions are in test_concurrency.py and
test_raw_integrity.py): two `xxgk run` at once ten times, 200 analyst queries while `xxgk
compact` and `xxgk run` write, a load made under a clock a year ahead then corrected, a
notebook holding the views file read-write, a file flipping while it is read, /dev/zero."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from conftest import REAL, SEED
from load import connect_readonly
from test_concurrency import CURRENT_FACTS
from test_survive_discovery import env_without_prefect

ROOT = Path(__file__).resolve().parent.parent
XXGK = [sys.executable, "-m", "flows.cli"]


def xxgk(*args, env: dict, cmd: list[str] = XXGK, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*cmd, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def one(wh: Path, sql: str):
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


@pytest.fixture
def env(tmp_path):
    return env_without_prefect(tmp_path)


@pytest.mark.slow
def test_two_cli_runs_at_once_both_succeed_ten_times(tmp_path, env):
    for trial in range(10):
        wh = tmp_path / f"t{trial}"
        procs = [subprocess.Popen([*XXGK, "run", str(doc), "-w", str(wh), "--no-prefect"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for doc in (SEED, REAL[0])]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], (trial, outs)
        assert one(wh, "SELECT count(*) FROM reports") == (2,), trial
        assert not list(wh.glob("*.tmp")) and not list(wh.rglob(".*.tmp")), trial


@pytest.mark.slow
def test_200_analyst_queries_while_the_cli_compacts_and_loads_all_succeed(tmp_path, env):
    drop = tmp_path / "drop"
    drop.mkdir()
    for p in [SEED, *REAL]:
        shutil.copy(p, drop / p.name)
    wh = tmp_path / "wh"
    assert xxgk("run", drop, "-w", wh, "--no-prefect", env=env).returncode == 0
    expected = one(wh, "SELECT count(*), round(sum(value), 3) FROM facts")
    assert expected[0] == CURRENT_FACTS
    answers, failures, done = [], [], threading.Event()
    sql = "SELECT count(*), round(sum(value), 3) FROM facts"

    def notebook():  # one connection, query after query
        con = connect_readonly(wh)
        try:
            while len(answers) + len(failures) < 200:
                try:
                    answers.append(con.execute(sql).fetchone())
                except Exception as exc:  # noqa: BLE001 - counted, asserted below
                    failures.append(repr(exc))
        finally:
            con.close()
            done.set()

    def cli_analyst():  # `xxgk query`, a new connection each time
        while not done.is_set():
            r = xxgk("query", sql, "-w", wh, "-f", "csv", env=env)
            if r.returncode:
                failures.append(r.stderr)
            else:
                n, s = r.stdout.splitlines()[-1].split(",")
                answers.append((int(n), float(s)))

    readers = [threading.Thread(target=notebook) for _ in range(2)] + [threading.Thread(target=cli_analyst)]
    for t in readers:
        t.start()
    rounds = 0
    while not done.is_set() or rounds < 2:  # compact, reload one document (new files), compact again, …
        for args in (("compact", "-w", wh), ("run", drop / REAL[0].name, "-w", wh, "--force", "--no-prefect")):
            r = xxgk(*args, env=env)
            assert r.returncode == 0, r.stderr
        rounds += 1
    for t in readers:
        t.join()
    assert failures == [] and len(answers) >= 200
    assert set(answers) == {expected}, {a for a in answers if a != expected}


@pytest.mark.slow
def test_a_load_under_a_clock_a_year_ahead_hides_no_later_correction(tmp_path, env):
    drop = tmp_path / "drop"
    drop.mkdir()
    report = drop / "report.html"
    shutil.copy(REAL[1], report)
    wh = tmp_path / "wh"
    ahead = xxgk(str(ROOT / "tests" / "clock.py"), "365", "--", "run", drop, "-w", wh, "--no-prefect", env=env,
                 cmd=[sys.executable])
    assert ahead.returncode == 0, ahead.stderr
    next_year = str(dt.datetime.now(dt.timezone.utc).year + 1)
    assert one(wh, "SELECT max(batch_id) FROM documents")[0][:4] == next_year  # named by the wrong clock
    shutil.copy(REAL[2], report)  # the site corrects its report; the clock is right again
    fixed = xxgk("run", drop, "-w", wh, "--no-prefect", env=env)
    assert fixed.returncode == 0, fixed.stderr
    corrected = hashlib.sha256(REAL[2].read_bytes()).hexdigest()
    assert one(wh, "SELECT list(doc_sha256) FROM documents") == ([corrected],)
    facts = one(wh, "SELECT count(*) FROM facts")[0]
    assert xxgk("compact", "-w", wh, "--grace", "0", env=env).returncode == 0
    assert xxgk("run", drop, "-w", wh, "--no-prefect", env=env).returncode == 0  # its vacuum deletes what is gone
    assert one(wh, "SELECT list(doc_sha256), count(*) FROM documents") == ([corrected], 1)
    assert one(wh, "SELECT count(*) FROM facts")[0] == facts
    assert xxgk("verify", "-w", wh, env=env).returncode == 0


@pytest.mark.slow
def test_a_notebook_holding_the_views_file_read_write_does_not_stop_a_cli_run(tmp_path, env):
    wh = tmp_path / "wh"
    assert xxgk("run", SEED, "-w", wh, "--no-prefect", env=env).returncode == 0
    notebook = duckdb.connect(str(wh / "xxgk.duckdb"))  # the default: read-write, with a file lock
    try:
        r = xxgk("run", REAL[0], "-w", wh, "--no-prefect", env=env)
        assert r.returncode == 0, r.stderr
        q = xxgk("query", "SELECT count(*) FROM reports", "-w", wh, "-f", "csv", env=env)
        assert q.returncode == 0 and q.stdout.splitlines()[-1] == "2", q.stderr
    finally:
        notebook.close()


def test_dev_zero_and_a_fifo_given_to_run_are_refused_at_once(tmp_path, env):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    wh = tmp_path / "wh"
    r = xxgk("run", "/dev/zero", fifo, SEED, "-w", wh, "--no-prefect", env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    con = connect_readonly(wh)
    try:
        rows = dict(con.execute("SELECT source, status || ': ' || reason FROM documents WHERE status <> 'ok'").fetchall())
    finally:
        con.close()
    assert set(rows) == {"/dev/zero", str(fifo)}
    assert all(v.startswith("failed: not a regular file") for v in rows.values()), rows


@pytest.mark.slow
def test_a_file_flipping_while_run_reads_it_is_never_stored_under_another_hash(tmp_path, env):
    path = tmp_path / "flip.txt"
    path.write_bytes(b"a" * 20_000_000)
    stop = threading.Event()

    def flip():
        n = 0
        with open(path, "r+b") as fh:
            while not stop.is_set():
                n += 1
                fh.seek((n * 7919 * 4096) % 19_000_000)
                fh.write(b"ab"[n % 2:n % 2 + 1] * 4096)
                fh.flush()
                os.utime(path, ns=(n * 10**9, n * 10**9))

    writer = threading.Thread(target=flip, daemon=True)
    writer.start()
    wh = tmp_path / "wh"
    try:
        runs = [xxgk("run", path, "-w", wh, "--no-prefect", "--force", env=env) for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    v = xxgk("verify", "-w", wh, env=env)
    assert v.returncode == 0 and "all intact" in v.stdout, v.stdout  # every raw file hashes to its name
    con = connect_readonly(wh)
    try:
        sha, raw, reason = con.execute("SELECT doc_sha256, raw_path, reason FROM documents").fetchone()
    finally:
        con.close()
    assert "changed while it was read" in reason or (
        raw and hashlib.sha256((wh / raw).read_bytes()).hexdigest() == sha), (reason, raw)
