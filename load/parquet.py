"""Atomic, schema-checked Parquet writes: a file is written under a temporary name in
its final directory, fsynced, then renamed over the target, so a reader (or a crash)
only ever sees the old file or the new one."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transform.records import SCHEMAS

from .errors import SchemaMismatch


def to_arrow(table: str, records: list, extra: dict | None = None) -> pa.Table:
    schema = SCHEMAS[table]
    rows = []
    for r in records:
        d = dataclasses.asdict(r) if dataclasses.is_dataclass(r) else dict(r)
        if extra:
            d.update(extra)
        rows.append(d)
    names = set(schema.names)
    for d in rows:
        if set(d) != names:
            raise SchemaMismatch(f"`{table}` record fields {sorted(set(d) ^ names)} differ from the schema")
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaMismatch(f"`{table}` records do not fit the schema: {exc}") from exc


def write_atomic(path: Path, data: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(data, tmp, compression="zstd")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def clean_temporaries(root: Path) -> int:
    """Remove temp files left by a killed writer. Returns how many."""
    n = 0
    for p in Path(root).rglob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n
