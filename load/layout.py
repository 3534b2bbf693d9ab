"""Where everything lives inside a warehouse directory. Every path goes through here,
so another filesystem (an object store) can follow by changing this module only.

    warehouse/
      documents/<sha256[:2]>/<sha256>.parquet           every file ever seen
      reports/data_year=<Y>/<report_id>.parquet          one row per report
      facts/data_year=<Y>/<report_id>.parquet            long facts of one report
      checks/data_year=<Y>/<report_id>.parquet           identity results of one report
      xxgk.duckdb                                         views only, no data
      .lock                                               writer lock
"""

from __future__ import annotations

import string
from pathlib import Path

LAYOUT = "{table}/data_year={data_year}/{report_id}.parquet"
DOCUMENT_LAYOUT = "documents/{prefix}/{doc_sha256}.parquet"
PARTITIONED = ("reports", "facts", "checks")
DB_NAME = "xxgk.duckdb"
LOCK_NAME = ".lock"
UNKNOWN_YEAR = 0
"""Partition for reports whose data year could not be read."""

_fields = {f for _, f, _, _ in string.Formatter().parse(LAYOUT) if f}
assert _fields == {"table", "data_year", "report_id"}, f"LAYOUT placeholders are {_fields}"


def part_path(root: Path, table: str, data_year: int | None, report_id: str) -> Path:
    return Path(root) / LAYOUT.format(table=table, data_year=data_year or UNKNOWN_YEAR, report_id=report_id)


def document_path(root: Path, doc_sha256: str) -> Path:
    return Path(root) / DOCUMENT_LAYOUT.format(prefix=doc_sha256[:2], doc_sha256=doc_sha256)


def table_glob(root: Path, table: str) -> str:
    if table == "documents":
        return str(Path(root).resolve() / "documents" / "*" / "*.parquet")
    return str(Path(root).resolve() / table / "data_year=*" / "*.parquet")


def db_path(root: Path) -> Path:
    return Path(root) / DB_NAME
