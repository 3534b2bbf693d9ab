"""The warehouse: ExtractionResults → Parquet, one file per table, data year and load.

How rows stay current without ever rewriting data in place (a small MVCC):

* Every row carries the `batch_id` of the load that wrote it. A load writes its facts,
  checks and reports files first and its `documents` file **last**: that file is the
  commit. A document is identified by its source (URL or path): its current version is
  its committed row with the highest batch id. A report (identified by the document's
  bytes) is current in the highest batch in which a current document row carries those
  bytes; its facts and checks are those of that (report, batch). The DuckDB views apply
  exactly this rule, so a changed page replaces its old report.
* So re-running a document replaces exactly its rows (the new batch wins), and a load
  killed at any point leaves the previous data visible and intact: its uncommitted
  files are ignored, and the next run removes them.
* `vacuum` deletes files with no current row, which only saves space: visibility never
  depends on it. A file is never rewritten in place (a reader may have read its footer
  already; `compact` writes new files instead), and a file with no current row is not deleted at once but after a grace period (`DELETE_GRACE`,
  listed in `.pending-delete.json` meanwhile): an analyst's query that listed the files
  before the vacuum still finds every file it listed.
* `compact` re-commits every current row under one new batch (one file per table and
  year), then vacuums: many small nightly files become few.

A writer holds `.lock` (flock) for the whole load, so two runs never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common import atomic_write
from transform.records import SCHEMAS, Document, ExtractionResult, report_id_for

from .duckdb import refresh_views
from .errors import WarehouseBusy
from .layout import LOCK_NAME, TABLES, new_batch_id, part_path, run_path, table_files
from .parquet import clean_temporaries, record_path, to_arrow, write_atomic

log = logging.getLogger("xxgk.load")
DEFAULT_WAREHOUSE = Path("warehouse")
DELETE_GRACE = 300.0
"""Seconds a file with no current row stays in place before vacuum deletes it."""
PENDING = ".pending-delete.json"
LOADED = ("ok", "partial")
"""Statuses whose report, facts and checks are stored (failed documents are `documents` rows only)."""


@dataclass(slots=True)
class Part:
    """One written, uncommitted part of a load (see `write_part`)."""

    name: str
    """`<batch_id>-p<n>`: the name of its files."""
    documents: list[Document]
    facts: int
    reports: dict[str, str]
    """Document SHA-256 → the data-year partition (`2020`, `0` if unknown) holding its report."""


@dataclass(slots=True)
class Compaction:
    """What `compact` did: the batch it re-committed every current row under, and the files
    per table before and after."""

    batch_id: str
    files_before: dict[str, int]
    files_after: dict[str, int]


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


def write_part(root: Path, results: list[ExtractionResult], batch_id: str, part: int) -> Part:
    """Write one part of a load (facts, checks and reports of `results`, per data year) as
    files `<batch_id>-p<part>.parquet`, without committing. Parts of one batch may be written
    by different processes (Dask workers) while the coordinator holds the writer lock;
    `commit()` then makes the whole batch visible at once. Idempotent: re-writing a part
    replaces its files."""
    root = Path(root)
    name = f"{batch_id}-p{part:04d}"
    latest: dict[str, ExtractionResult] = {}
    for r in results:  # the same source twice: the last one counts
        latest[r.document.source] = r
    by_content: dict[str, ExtractionResult] = {}
    for r in latest.values():  # the same bytes from two sources: one report
        if r.report.status in LOADED:
            by_content[r.document.doc_sha256] = r
    by_year: dict[int, list[ExtractionResult]] = defaultdict(list)
    for r in by_content.values():
        by_year[r.report.year or 0].append(r)
    n_facts = 0
    for year, rs in sorted(by_year.items()):
        extra = {"batch_id": batch_id, "data_year": year}
        facts = [f for r in rs for f in r.facts]
        n_facts += len(facts)
        write_atomic(part_path(root, "facts", year, name), to_arrow("facts", facts, extra))
        write_atomic(part_path(root, "checks", year, name), to_arrow("checks", [c for r in rs for c in r.checks], extra))
        write_atomic(part_path(root, "reports", year, name),
                     to_arrow("reports", [r.report for r in rs], {"batch_id": batch_id}))
    return Part(name, [r.document for r in latest.values()], n_facts,
                {sha: f"{r.report.year or 0}" for sha, r in by_content.items()})


def commit(root: Path, batch_id: str, parts: list[Part]) -> int:
    """Make a batch written by `write_part` visible: write its documents file (the commit),
    then vacuum and refresh the views. Call under the writer lock. Returns facts loaded."""
    root = Path(root)
    seen: dict[str, str] = {}
    for part in parts:  # the same bytes in two parts: keep the first part's report
        dup = [sha for sha in part.reports if sha in seen]
        if dup:
            ids = {report_id_for(sha) for sha in dup}
            for sha in dup:
                year_dir = f"data_year={part.reports[sha]}"
                for table in ("facts", "checks", "reports"):
                    path = root / table / year_dir / f"{part.name}.parquet"
                    if path.exists():
                        t = _read(path)
                        write_atomic(path, t.filter(pc.invert(pc.is_in(t.column("report_id"), pa.array(list(ids))))))
        for sha in part.reports:
            seen.setdefault(sha, part.name)
    documents = {d.source: d for part in parts for d in part.documents}
    if documents:
        write_atomic(part_path(root, "documents", None, batch_id),
                     to_arrow("documents", list(documents.values()), {"batch_id": batch_id}))
    after_commit(root)
    return sum(p.facts for p in parts)


def is_committed(root: Path, batch_id: str) -> bool:
    """Whether the load `batch_id` is committed (its documents file written): what a run
    stopped while committing asks."""
    return part_path(Path(root), "documents", None, batch_id).exists()


def after_commit(root: Path) -> None:
    """Vacuum and refresh the views after a commit: a failure here (disk full, a damaged
    file) loses nothing (the data is committed, visibility never depends on either), so it
    is a warning, never a failed load; the next run does both again."""
    for step in (vacuum, refresh_views):
        try:
            step(root)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the load is committed
            log.warning("the load is committed, but %s failed: %s: %s (the next run retries it)",
                        step.__name__, type(exc).__name__, exc)


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns)


def current_batches(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(source → batch of its current document row, report_id → batch of its current report).

    A source's current version is its committed row with the highest batch id; a report is
    current in the highest batch in which a current document row carries its bytes."""
    by_source: dict[str, tuple[str, str]] = {}
    for path in table_files(root, "documents"):
        t = _read(path, ["source", "doc_sha256", "batch_id"])
        for src, sha, batch in zip(t.column("source").to_pylist(), t.column("doc_sha256").to_pylist(),
                                   t.column("batch_id").to_pylist()):
            if batch > by_source.get(src, ("", ""))[0]:
                by_source[src] = (batch, sha)
    by_report: dict[str, str] = {}
    for batch, sha in by_source.values():
        rid = report_id_for(sha)
        if batch > by_report.get(rid, ""):
            by_report[rid] = batch
    return {src: batch for src, (batch, _) in by_source.items()}, by_report


def _current_mask(t: pa.Table, key: str, current: dict[str, str]) -> pa.Array:
    ids = t.column(key).to_pylist()
    batches = t.column("batch_id").to_pylist()
    return pa.array([current.get(i) == b for i, b in zip(ids, batches)], pa.bool_())


def vacuum(root: Path, grace_seconds: float = DELETE_GRACE) -> int:
    """Delete rows that are no longer current (and uncommitted leftovers). Returns files
    changed. A file left with no current row is deleted only `grace_seconds` after it was
    first found so (readers that listed it may still open it)."""
    root = Path(root)
    docs, by_report = current_batches(root)
    pending = _pending(root)
    gone: list[Path] = []
    changed = 0
    for path in table_files(root, "documents"):
        changed += _filter_file(path, "source", docs, gone)
    for path in table_files(root, "reports"):
        t = _read(path, ["report_id", "batch_id"])
        mask = _current_mask(t, "report_id", by_report)
        if pc.all(mask).as_py() and len(t):
            continue
        year_dir, name = path.parent.name, path.name
        for table in ("facts", "checks", "reports"):
            changed += _filter_file(root / table / year_dir / name, "report_id", by_report, gone)
    # files of a killed load that never got as far as its reports file
    for table in ("facts", "checks"):
        for path in table_files(root, table):
            if not (root / "reports" / path.parent.name / path.name).exists():
                gone.append(path)
                changed += 1
    now = time.time()
    keep = {}
    for path in gone:
        rel = str(path.relative_to(root))
        since = pending.get(rel, now)
        if now - since >= grace_seconds:
            path.unlink(missing_ok=True)
            record_path(path).unlink(missing_ok=True)
        else:
            keep[rel] = since
    _save_pending(root, keep)
    return changed


def pending_deletes(root: Path) -> set[Path]:
    """Files with no current row waiting for their grace period (see `vacuum`)."""
    return {Path(root) / rel for rel in _pending(Path(root))}


def _pending(root: Path) -> dict[str, float]:
    try:
        data = json.loads((root / PENDING).read_text())
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError):
        return {}


def _save_pending(root: Path, pending: dict[str, float]) -> None:
    if not pending:
        (root / PENDING).unlink(missing_ok=True)
        return
    text = json.dumps(pending, indent=0, sort_keys=True)
    atomic_write(root / PENDING, lambda tmp: tmp.write_text(text))


def _filter_file(path: Path, key: str, current: dict[str, str], gone: list[Path]) -> int:
    """Add `path` to `gone` (deleted after the grace period) when none of its rows is
    current. A file with some current rows is left as it is: its other rows are invisible
    already, and rewriting it in place could hand a reader that read its footer before the
    rewrite the data pages of the new file (compact rewrites into new files instead)."""
    if not path.exists():
        return 0
    t = _read(path, [key, "batch_id"])
    if t.num_rows and pc.any(_current_mask(t, key, current)).as_py():
        return 0
    gone.append(path)
    return 1


def _rebatch(parts: list[pa.Table], table: str, batch_id: str) -> pa.Table:
    """`parts` as one table of the current schema under `batch_id`. A file written before a
    column was added lacks it: null in its rows, as the views read them (and the column is
    then nullable in the file: a 0 or false would claim what was not recorded)."""
    merged = pa.concat_tables(parts, promote_options="default")
    fields, columns = [], []
    for f in SCHEMAS[table]:
        col = merged.column(f.name) if f.name in merged.column_names else pa.nulls(merged.num_rows, f.type)
        fields.append(f.with_nullable(True) if col.null_count else f)
        columns.append(col)
    merged = pa.Table.from_arrays(columns, names=[f.name for f in fields]).cast(pa.schema(fields))
    return merged.set_column(merged.schema.get_field_index("batch_id"), "batch_id",
                             pa.array([batch_id] * merged.num_rows, pa.string()))


def compact(root: Path, grace_seconds: float = DELETE_GRACE) -> Compaction:
    """Re-commit every current row under one new batch (a file per table and year), then
    vacuum the old files. Safe to interrupt: until its documents file is written the new
    files are invisible; after it, the old ones are."""
    root = Path(root)
    waiting = pending_deletes(root)
    before = {t: len([p for p in table_files(root, t) if p not in waiting]) for t in TABLES}
    docs, by_report = current_batches(root)
    batch_id = new_batch_id(root=root)
    years = sorted({p.parent.name for p in table_files(root, "reports")})
    for year_dir in years:
        year = int(year_dir.split("=", 1)[1])
        for table in ("facts", "checks", "reports"):
            parts = []
            for path in sorted((root / table / year_dir).glob("*.parquet")):
                t = _read(path)
                parts.append(t.filter(_current_mask(t, "report_id", by_report)))
            if not parts:
                continue
            merged = _rebatch(parts, table, batch_id)
            if merged.num_rows:
                write_atomic(part_path(root, table, year, batch_id), merged)
    parts = []
    for path in table_files(root, "documents"):
        t = _read(path)
        parts.append(t.filter(_current_mask(t, "source", docs)))
    if parts:
        write_atomic(part_path(root, "documents", None, batch_id), _rebatch(parts, "documents", batch_id))  # the commit
    vacuum(root, grace_seconds)
    waiting = pending_deletes(root)
    after = {t: len([p for p in table_files(root, t) if p not in waiting]) for t in TABLES}
    return Compaction(batch_id, before, after)


def load_results(root: Path, results: list[ExtractionResult], lock: bool = True,
                 wait_seconds: float = 600.0) -> int:
    """Write a batch of results under the writer lock, clean up, refresh the views.
    Returns the number of facts written. Another run holding the lock: wait up to
    `wait_seconds`, then raise WarehouseBusy."""
    ctx = write_lock(root, wait_seconds) if lock else contextlib.nullcontext()
    with ctx:
        clean_temporaries(root)
        batch_id = new_batch_id(root=root)
        return commit(root, batch_id, [write_part(root, results, batch_id, 0)] if results else [])


def write_run_summary(root: Path, summary, wait_seconds: float = 60.0) -> Path:
    """Keep a flow run's summary (the `runs` view); refresh the views if the writer lock
    comes free within `wait_seconds` (a stopped run waits little)."""
    path = run_path(root, summary.run_id)
    write_atomic(path, to_arrow("runs", [summary]))
    try:  # the views file is built under the writer lock, never beside another writer's
        with write_lock(root, wait_seconds=wait_seconds):
            refresh_views(root)
    except Exception as exc:  # noqa: BLE001 - the summary is kept; the views glob it anyway
        log.warning("run summary kept, views not refreshed: %s: %s", type(exc).__name__, exc)
    return path


def compact_warehouse(root: Path, grace_seconds: float = DELETE_GRACE) -> Compaction:
    """`compact` under the writer lock, then refresh the views. The old files are deleted
    `grace_seconds` later (by a later vacuum: every load runs one)."""
    with write_lock(root):
        clean_temporaries(root)
        out = compact(root, grace_seconds)
        refresh_views(root)
    return out
