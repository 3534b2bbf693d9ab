"""Issue 14: what a run reads from local folders: each input read once and hashed as read,
only regular files (a FIFO never blocks, a device never fills memory), symbolic links
followed only inside the given folders, raw copies never more readable than the source."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import SEED
from extract.crawl import RawStore
from extract.crawl.store import read_once
from flows.discover import discover
from flows.items import WorkItem
from flows.run import extract_items

ROOT = Path(__file__).resolve().parent.parent


def finishes(fn, seconds: float = 20.0):
    """fn() in a thread: its result, or a failure if it is still running after `seconds`."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("v", fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s (blocked)"
    return box["v"]


@pytest.fixture
def corpus(tmp_path):
    """A drop folder with a report, a FIFO, a symlink to a file outside, a symlink inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text("root:$6$secret:19000:0:99999:7:::\n")
    drop = tmp_path / "drop"
    (drop / "sub").mkdir(parents=True)
    shutil.copy(SEED, drop / "report.txt")
    os.mkfifo(drop / "pipe.txt")
    (drop / "shadow.txt").symlink_to(outside / "shadow")
    (drop / "sub" / "again.txt").symlink_to(drop / "report.txt")
    (drop / "escape").symlink_to(outside, target_is_directory=True)
    return drop


def test_discovery_reads_regular_files_and_links_inside_only_and_says_why_not_the_rest(corpus):
    files, skipped = finishes(lambda: discover([corpus]))
    assert files == [corpus / "report.txt"]  # the link inside is the same file, read once
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons["pipe.txt"].startswith("not a regular file (FIFO)")
    assert "outside" in reasons["shadow.txt"] and "not followed" in reasons["shadow.txt"]
    assert "outside" in reasons["escape"]


def test_an_explicit_fifo_or_device_is_refused_without_blocking(corpus):
    assert finishes(lambda: read_once(corpus / "pipe.txt", 10**6)).refused.startswith("not a regular file")
    assert finishes(lambda: read_once(Path("/dev/zero"), 10**6)).refused.startswith("not a regular file")
    results, _ = finishes(lambda: extract_items([WorkItem.of_file(corpus / "pipe.txt")], {}, str(corpus.parent / "wh"),
                                                isolate=False))
    assert [(r.document.status, r.document.reason[:18]) for r in results] == [("failed", "not a regular file")]


def test_a_file_changing_while_it_is_read_is_refused_never_hashed_as_other_bytes(tmp_path):
    path = tmp_path / "flip.txt"
    path.write_bytes(b"a" * 20_000_000)
    stop = threading.Event()

    def flip():
        n = 0
        with open(path, "r+b") as fh:
            while not stop.is_set():
                n += 1
                fh.seek(0)
                fh.write(b"ab"[n % 2:n % 2 + 1] * 4096)
                fh.flush()
                os.utime(path, ns=(n * 10**9, n * 10**9))

    writer = threading.Thread(target=flip, daemon=True)
    writer.start()
    try:
        reads = [read_once(path, 10**8) for _ in range(20)]
    finally:
        stop.set()
        writer.join()
    assert any(r.refused and "changed while it was read" in r.refused for r in reads)
    for r in reads:
        assert r.refused or hashlib.sha256(r.data).hexdigest() == r.sha256


def test_raw_copies_are_never_more_readable_than_their_source(tmp_path):
    src = tmp_path / "private.txt"
    src.write_bytes(b"private bytes")
    src.chmod(0o600)
    store = RawStore(tmp_path / "raw")
    _, copy, _ = store.put_file(src)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    got = read_once(src, 100)
    _, again, _ = RawStore(tmp_path / "raw2").put(got.data, src.name, got.mode)
    assert stat.S_IMODE(again.stat().st_mode) == 0o600


@pytest.mark.slow
def test_run_on_a_drop_folder_with_a_fifo_and_a_symlink_out_loads_the_report_only(corpus, tmp_path, prefect_env):
    wh = tmp_path / "wh"
    r = subprocess.run([sys.executable, "-m", "flows.cli", "run", str(corpus), str(corpus / "pipe.txt"), "-w", str(wh)],
                       capture_output=True, text=True, cwd=ROOT, env=prefect_env, timeout=120)
    assert r.returncode in (0, 1), r.stdout + r.stderr  # 1: a failed document (the explicit FIFO)
    from load import connect_readonly

    con = connect_readonly(wh)
    try:
        docs = dict(con.execute("SELECT source, status FROM documents").fetchall())
    finally:
        con.close()
    assert docs == {str(corpus / "report.txt"): "ok", str(corpus / "pipe.txt"): "failed"}
    assert not any(b"$6$secret" in p.read_bytes() for p in (wh / "raw").rglob("*") if p.is_file()) \
        if (wh / "raw").exists() else True
