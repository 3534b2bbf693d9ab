"""Issue 14: readers never fail because of writers, two writers never fail each other, a
clock set ahead hides nothing, a failure after the commit loses nothing."""

from __future__ import annotations

import datetime as dt
import threading

from conftest import REAL, SEED
from load import connect_readonly, load_results
from load.layout import new_batch_id
from load.warehouse import commit, compact_warehouse, write_part
from transform.pipeline import process_file

CURRENT_FACTS = 198 + 200 + 186 + 198


def count(wh, sql="SELECT count(*) FROM facts"):
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_200_analyst_queries_during_compactions_all_succeed(tmp_path):
    results = [process_file(p) for p in [SEED, *REAL]]
    for r in results:
        load_results(tmp_path, [r])
    failures, answers, done = [], [], threading.Event()

    def analyst():  # a notebook: one connection, query after query
        con = connect_readonly(tmp_path)
        try:
            while len(answers) + len(failures) < 200:
                try:
                    answers.append(con.execute("SELECT count(*), round(sum(value), 3) FROM facts").fetchone())
                except Exception as exc:  # noqa: BLE001 - counted, asserted below
                    failures.append(exc)
        finally:
            con.close()
            done.set()

    readers = [threading.Thread(target=analyst) for _ in range(2)]
    for t in readers:
        t.start()
    rounds = 0
    while not done.is_set() or rounds < 2:  # compact, reload one document (new files), compact again, …
        compact_warehouse(tmp_path)
        load_results(tmp_path, [results[1]])
        rounds += 1
    for t in readers:
        t.join()
    assert failures == [] and len(answers) >= 200
    assert {a for a in answers} == {answers[0]} and answers[0][0] == CURRENT_FACTS


def test_two_loads_at_once_both_succeed_ten_times(tmp_path):
    a, b = process_file(SEED), process_file(REAL[0])
    for trial in range(10):
        wh = tmp_path / f"t{trial}"
        errors = []

        def load(r):
            try:
                load_results(wh, [r])
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)

        ts = [threading.Thread(target=load, args=(r,)) for r in (a, b)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == [] and count(wh, "SELECT count(*) FROM reports") == 2


def test_a_load_under_a_clock_a_year_ahead_hides_no_later_correction(tmp_path):
    old = process_file(REAL[0])
    ahead = new_batch_id(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365))
    commit(tmp_path, ahead, [write_part(tmp_path, [old], ahead, 0)])
    other = process_file(REAL[1])
    other.document.source = old.document.source  # the same source, corrected: other bytes
    load_results(tmp_path, [other])  # the clock is right again
    assert count(tmp_path, "SELECT list(doc_sha256) FROM documents") == [other.document.doc_sha256]
    assert count(tmp_path) == len(other.facts)


def test_a_failure_after_the_commit_is_a_warning_and_the_load_is_kept(tmp_path, caplog):
    load_results(tmp_path, [process_file(SEED)])
    (tmp_path / "xxgk.duckdb").unlink()
    (tmp_path / "xxgk.duckdb").mkdir()  # the views file cannot be replaced now
    assert load_results(tmp_path, [process_file(REAL[0])]) == 186
    assert "the load is committed, but refresh_views failed" in caplog.text
    assert count(tmp_path, "SELECT count(*) FROM reports") == 2


def test_a_snapshot_connection_sees_one_committed_state_in_every_view(tmp_path):
    """What `xxgk query` opens: every view reads the files listed at open, so a query
    joining two views never pairs one load's facts with another load's reports (with live
    globs each view lists the files as it is bound, and a load between two bindings could)."""
    a, b = process_file(REAL[1]), process_file(REAL[2])
    b.document.source = a.document.source  # the same document, corrected
    load_results(tmp_path, [process_file(SEED), a])
    joined = "SELECT count(*) FROM facts f JOIN reports r USING (report_id)"
    snap = connect_readonly(tmp_path, snapshot=True)
    try:
        before = snap.execute(joined).fetchone()[0]
        load_results(tmp_path, [b])
        assert snap.execute(joined).fetchone()[0] == before == len(process_file(SEED).facts) + len(a.facts)
        shas = set(snap.execute("SELECT list(doc_sha256) FROM documents").fetchone()[0])
        assert a.document.doc_sha256 in shas and b.document.doc_sha256 not in shas
    finally:
        snap.close()
    assert count(tmp_path, joined) == len(process_file(SEED).facts) + len(b.facts)
