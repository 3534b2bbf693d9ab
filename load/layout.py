"""Where everything lives inside a warehouse directory. Every path goes through here,
so another filesystem (an object store) can follow by changing this module only.

    warehouse/
      documents/<batch_id>.parquet                     the documents of one load (every file seen)
      reports/data_year=<Y>/<part>.parquet              the reports of one load, per data year
      facts/data_year=<Y>/<part>.parquet                their long facts
      checks/data_year=<Y>/<part>.parquet               their identity results
      runs/<run_id>.parquet                             one summary per flow run
      raw/<sha256[:2]>/<sha256>.<ext>                   fetched files, content-addressed (extract/crawl)
      xxgk.duckdb                                       views only, no data
      .lock                                             writer lock

A <part> is `<batch_id>-p<n>` (one per worker batch of a load; compaction writes
`<batch_id>`). One file per table, data year and load (not per report): a warehouse of 50,000 reports
loaded in a few dozen runs is a few hundred files, which DuckDB scans in well under a
second; one file per report would be 150,000 files. `xxgk compact` merges the files of
many small runs (see load/warehouse.py for how rows stay current and crash-safe).
"""

from __future__ import annotations

import datetime as dt
import string
import uuid
from pathlib import Path

LAYOUT = "{table}/data_year={data_year}/{batch_id}.parquet"
DOCUMENT_LAYOUT = "documents/{batch_id}.parquet"
PARTITIONED = ("reports", "facts", "checks")
TABLES = ("documents",) + PARTITIONED
DB_NAME = "xxgk.duckdb"
LOCK_NAME = ".lock"
UNKNOWN_YEAR = 0
"""Partition for reports whose data year could not be read."""

_fields = {f for _, f, _, _ in string.Formatter().parse(LAYOUT) if f}
assert _fields == {"table", "data_year", "batch_id"}, f"LAYOUT placeholders are {_fields}"


def new_batch_id(now: dt.datetime | None = None, root: Path | None = None) -> str:
    """Sortable by time: `20261126T020304123456-1a2b3c4d`. With `root`, later than every
    batch committed there whatever the clock says (a load made under a clock set ahead
    would otherwise hide every later correction)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    latest = latest_batch(root) if root is not None else None
    if latest is not None:
        try:
            last = dt.datetime.strptime(latest[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            last = None
        if last is not None and now <= last:
            now = last + dt.timedelta(microseconds=1)
    return f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def latest_batch(root: Path) -> str | None:
    """The highest batch id committed in the warehouse (its documents files are named so)."""
    names = [p.stem for p in (Path(root) / "documents").glob("*.parquet")]
    return max(names) if names else None


def part_path(root: Path, table: str, data_year: int | None, batch_id: str) -> Path:
    if table == "documents":
        return Path(root) / DOCUMENT_LAYOUT.format(batch_id=batch_id)
    return Path(root) / LAYOUT.format(table=table, data_year=data_year or UNKNOWN_YEAR, batch_id=batch_id)


def table_files(root: Path, table: str) -> list[Path]:
    base = Path(root) / table
    pattern = "*.parquet" if table == "documents" else "data_year=*/*.parquet"
    return sorted(base.glob(pattern))


def table_glob(table: str) -> str:
    """The table's files as a glob relative to the warehouse directory."""
    if table in ("runs", "documents"):
        return f"{table}/*.parquet"
    return f"{table}/data_year=*/*.parquet"


def glob_escape(path: str) -> str:
    """`path` as a DuckDB glob matching only itself (`[`, `*`, `?` in a directory name)."""
    return "".join(f"[{c}]" if c in "[*?" else c for c in path)


def run_path(root: Path, run_id: str) -> Path:
    return Path(root) / "runs" / f"{run_id}.parquet"


def raw_root(root: Path) -> Path:
    """The content-addressed raw store of fetched files."""
    return Path(root) / "raw"


def db_path(root: Path) -> Path:
    return Path(root) / DB_NAME
