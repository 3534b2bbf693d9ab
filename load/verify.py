"""`xxgk verify` and `xxgk repair`: every warehouse file checked against what its load
recorded (size, rows, SHA-256: `parquet.record_path`), every raw file against the hash it
is named by; damaged files set aside (under `damaged/`) and the documents they held listed
for re-extraction from the raw store (or their source file), so the tables come back equal
to an undamaged warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from .duckdb import connect_readonly, refresh_views
from .layout import TABLES, raw_root, table_files
from .parquet import record_path
from .reads import _DOCUMENT, StoredDocument
from .warehouse import write_lock

DAMAGED = "damaged"
"""Where `repair` sets damaged files aside (their path inside the warehouse kept)."""


@dataclass(frozen=True, slots=True)
class Damage:
    path: Path
    """Relative to the warehouse."""
    reason: str


@dataclass(slots=True)
class Verification:
    files: int
    raw_files: int
    damage: list[Damage]


def verify(root: Path) -> Verification:
    """Check every table file and every raw file; nothing is changed."""
    root = Path(root)
    damage, files = [], 0
    for table in (*TABLES, "runs"):
        paths = table_files(root, table) if table != "runs" else sorted((root / "runs").glob("*.parquet"))
        for path in paths:
            files += 1
            reason = _check_table_file(path)
            if reason:
                damage.append(Damage(path.relative_to(root), reason))
    raw = 0
    for path in sorted(raw_root(root).glob("[0-9a-f][0-9a-f]/*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        raw += 1
        with open(path, "rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != path.name.split(".")[0]:
                damage.append(Damage(path.relative_to(root), "raw file does not hash to its name"))
    return Verification(files, raw, damage)


def _check_table_file(path: Path) -> str | None:
    """Why a table file is damaged, or None."""
    rec = None
    try:
        rec = json.loads(record_path(path).read_text())
    except (OSError, ValueError):
        pass  # written before records were kept (or a crash between file and record)
    if rec:
        size = path.stat().st_size
        if size != rec.get("size"):
            return f"{size} bytes, its load wrote {rec.get('size')}"
        with open(path, "rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != rec.get("sha256"):
                return "checksum differs from the one its load recorded"
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
        if rec is None:
            pq.read_table(path)  # no record to compare with: every page must at least decode
    except Exception as exc:  # noqa: BLE001 - any failure to read is damage
        return f"unreadable: {type(exc).__name__}: {exc}"[:300]
    if rec and rows != rec.get("rows"):
        return f"{rows} rows, its load wrote {rec.get('rows')}"
    return None


def _batch_of(path: Path) -> str:
    return re.sub(r"-p\d+$", "", path.stem)


def set_aside(root: Path, found: Verification) -> list[StoredDocument]:
    """Move the damaged files to `damaged/` (under the writer lock) and return the documents
    to re-extract: every current document of a batch that lost a file. A damaged raw file
    is only set aside: the next crawl fetches it again (its address is missing)."""
    root = Path(root)
    batches = set()
    with write_lock(root):
        for d in found.damage:
            src = root / d.path
            dest = root / DAMAGED / d.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dest)
            if src.suffix == ".parquet":
                record_path(src).unlink(missing_ok=True)
                if d.path.parts[0] != "runs":
                    batches.add(_batch_of(src))
        refresh_views(root)
    return documents_of_batches(root, sorted(batches))


def documents_of_batches(root: Path, batches: list[str]) -> list[StoredDocument]:
    """The current documents of `batches`; for a batch whose documents file was lost, the
    sources its reports name (their bytes found in the raw store by hash)."""
    if not batches:
        return []
    con = connect_readonly(root)
    try:
        marks = ", ".join("?" * len(batches))
        docs = [StoredDocument(*r) for r in con.execute(
            f"SELECT {_DOCUMENT} FROM documents d WHERE d.batch_id IN ({marks})", batches).fetchall()]
        known = {d.source for d in docs} | {s for (s,) in con.execute("SELECT source FROM documents").fetchall()}
        orphans = con.execute(f"SELECT DISTINCT source, doc_sha256, format FROM _raw_reports WHERE batch_id IN ({marks})",
                              batches).fetchall()
    finally:
        con.close()
    now = dt.datetime.now(dt.timezone.utc)
    for source, sha, fmt in orphans:
        if source in known:
            continue
        hits = sorted((raw_root(root) / sha[:2]).glob(f"{sha}.*")) if sha else []
        raw = str(hits[0].relative_to(root)) if hits else None
        docs.append(StoredDocument(source, "ok", None, fmt or "unknown", raw, None, None, now))
    return docs

