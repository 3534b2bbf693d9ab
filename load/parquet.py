"""Atomic, schema-checked Parquet writes: a file is written under a temporary name in
its final directory, fsynced, then renamed over the target (`common.atomic_write`), so a
reader (or a crash) only ever sees the old file or the new one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from common import atomic_write
from transform.records import SCHEMAS

from .errors import SchemaMismatch


def to_arrow(table: str, records: list, extra: dict | None = None) -> pa.Table:
    """Records (dataclasses of transform/records.py) → an Arrow table of the declared
    schema, column by column; `extra` holds constant columns (batch_id, data_year)."""
    schema = SCHEMAS[table]
    extra = extra or {}
    if records:
        first = records[0]
        fields = {f.name for f in dataclasses.fields(first)} if dataclasses.is_dataclass(first) else set(first)
        got = fields | set(extra)
        if got != set(schema.names):
            raise SchemaMismatch(f"`{table}` record fields {sorted(got ^ set(schema.names))} differ from the schema")
    columns = []
    try:
        for field in schema:
            if field.name in extra:
                columns.append(pa.array([extra[field.name]] * len(records), field.type))
            elif records and dataclasses.is_dataclass(records[0]):
                columns.append(pa.array([getattr(r, field.name) for r in records], field.type))
            else:
                columns.append(pa.array([r[field.name] for r in records], field.type))
        return pa.Table.from_arrays(columns, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, KeyError, AttributeError) as exc:
        raise SchemaMismatch(f"`{table}` records do not fit the schema: {exc}") from exc


def write_atomic(path: Path, data: pa.Table, metadata: dict[str, str] | None = None) -> None:
    """Write `data` at `path` atomically, and record its size, rows and SHA-256 beside it
    (`record_path`: what `xxgk verify` checks the file against)."""
    if metadata:
        data = data.replace_schema_metadata({**(data.schema.metadata or {}), **metadata})
    record = {}

    def fill(tmp: Path) -> None:
        write_parquet(data, tmp)
        with open(tmp, "rb") as fh:
            record.update(size=tmp.stat().st_size, rows=data.num_rows,
                          sha256=hashlib.file_digest(fh, "sha256").hexdigest())

    atomic_write(path, fill)
    text = json.dumps(record)
    atomic_write(record_path(path), lambda tmp: tmp.write_text(text))


def record_path(path: Path) -> Path:
    """Where the size, rows and SHA-256 of a warehouse file written by `write_atomic` are kept."""
    return path.with_name(f".{path.name}.sum")


def write_parquet(data: pa.Table, path: Path) -> None:
    """One Parquet file as the warehouse stores them (zstd); `write_atomic` gives it its name."""
    pq.write_table(data, path, compression="zstd")


def clean_temporaries(root: Path, raw_age_seconds: float = 3600.0) -> int:
    """Remove temp files left by a killed writer (call under the writer lock). Returns how many.
    The raw store's and the run summaries' are removed only when older than
    `raw_age_seconds`: a crawl, and a run writing its `runs` row, do not take the writer
    lock and may be writing one right now (a second run's clean-up removed a first run's
    summary mid-write: `FileNotFoundError` on its rename)."""
    n = 0
    unlocked = (Path(root) / "raw", Path(root) / "runs")
    now = time.time()
    for p in Path(root).rglob(".*.tmp"):
        try:
            if any(p.is_relative_to(d) for d in unlocked) and now - p.stat().st_mtime < raw_age_seconds:
                continue
            p.unlink()
            n += 1
        except FileNotFoundError:
            continue
    return n
