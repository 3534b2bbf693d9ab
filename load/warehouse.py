"""The warehouse: write ExtractionResults as Parquet partitions (one file per report
per table, atomic replace), keep one `documents` record per file seen, refresh views.

Re-running a document replaces exactly its rows (its files are rewritten under the
same report id, and stale files of that report in other year partitions are removed).
A writer holds `.lock` (flock) for the whole load, so two runs never interleave."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from transform.records import ExtractionResult

from .duckdb import refresh_views
from .errors import WarehouseBusy
from .layout import LOCK_NAME, PARTITIONED, document_path, part_path
from .parquet import clean_temporaries, to_arrow, write_atomic

DEFAULT_WAREHOUSE = Path("warehouse")


@contextlib.contextmanager
def write_lock(root: Path, wait_seconds: float = 600.0):
    """Exclusive writer lock on the warehouse; waits up to `wait_seconds`, then refuses."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / LOCK_NAME, "a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"warehouse {root} is locked by another run (waited {wait_seconds:.0f} s)")
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def write_result(root: Path, result: ExtractionResult) -> int:
    """Write one document's records. Returns the number of facts written."""
    root = Path(root)
    rep = result.report
    year = rep.year or 0
    rid = rep.report_id
    if rep.status in ("ok", "partial"):
        # facts and checks first, the report row last: a report row means its facts are complete
        write_atomic(part_path(root, "facts", year, rid), to_arrow("facts", result.facts, {"data_year": year}))
        write_atomic(part_path(root, "checks", year, rid), to_arrow("checks", result.checks, {"data_year": year}))
        write_atomic(part_path(root, "reports", year, rid), to_arrow("reports", [rep]))
        keep = {part_path(root, t, year, rid) for t in PARTITIONED}
    else:
        keep = set()
    for table in PARTITIONED:  # stale partitions of this report (year changed, or now failed)
        for old in (root / table).glob(f"data_year=*/{rid}.parquet"):
            if old not in keep:
                old.unlink(missing_ok=True)
    write_atomic(document_path(root, result.document.doc_sha256), to_arrow("documents", [result.document]))
    return len(result.facts) if rep.status in ("ok", "partial") else 0


def load_results(root: Path, results: list[ExtractionResult], lock: bool = True) -> int:
    """Write a batch of results under the writer lock and refresh the views."""
    ctx = write_lock(root) if lock else contextlib.nullcontext()
    with ctx:
        clean_temporaries(root)
        n = sum(write_result(root, r) for r in results)
        refresh_views(root)
    return n
