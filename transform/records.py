"""The record model, declared once. Arrow schemas (the Parquet contract) are derived
from these dataclasses; `load/` refuses batches that do not match them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field


def report_id_for(sha256: str) -> str:
    """A report's id: the first 16 hex digits of its document's SHA-256 (the warehouse views
    join on the same rule, `left(doc_sha256, 16)`, in load/duckdb.py)."""
    return sha256[:16]


@dataclass(slots=True)
class Fact:
    report_id: str
    table: str
    item: str
    column: str
    value: float | None
    unit: str | None
    raw: str | None
    blank: bool = False
    derived: bool = False
    flags: list[str] = field(default_factory=list)
    page: int | None = None
    source_table: int | None = None
    source_row: int | None = None
    source_col: int | None = None
    parser_version: str = ""
    confidence: float | None = None
    """Read by OCR (flag `ocr`): the recogniser's score of its cell, 0–1; null otherwise."""


@dataclass(slots=True)
class CheckResult:
    report_id: str
    rule: str
    number: int
    table: str
    scope: str
    lhs: float | None
    rhs: float | None
    difference: float | None
    passed: bool | None
    detail: str | None = None


@dataclass(slots=True)
class Report:
    report_id: str
    doc_sha256: str
    source: str
    format: str
    status: str
    reason: str | None
    template: str | None
    year: int | None
    agency: str | None
    published: dt.date | None
    region_name: str | None = None
    region_code: str | None = None
    level: str | None = None
    body_type: str | None = None
    pages: int | None = None
    n_facts: int = 0
    n_checks_failed: int = 0
    parser_version: str = ""
    extracted_at: dt.datetime | None = None
    body_id: str | None = None
    """The issuing body (transform/bodies.py): `<GB/T 2260 code>-<canonical name>`."""
    cells_read: int = 0
    """Cells with a value or read as blank (not missing, unreadable or not found): ranks
    copies of one report (load/duckdb.py, the canonical report)."""


@dataclass(slots=True)
class Document:
    doc_sha256: str
    source: str
    format: str
    size: int
    status: str
    reason: str | None
    parser_version: str
    ingested_at: dt.datetime
    fetched_at: dt.datetime | None = None
    """When the crawler fetched it (null for files ingested from disk)."""
    origin: str | None = None
    """The crawl source's slug, or null for files ingested from disk."""
    raw_path: str | None = None
    """Where its bytes are kept in the raw store (relative to the warehouse)."""
    link_text: str | None = None
    """The text of the list-page link the crawler followed to it (null for files from disk)."""
    link_year: int | None = None
    """The year that link's text or URL names: the report's year when the document does not say."""
    ocr_skipped: bool | None = None
    """Pages or pictures of it that only OCR reads were left unread because OCR was off or not
    installed (`--no-ocr`, no RapidOCR): a later run with OCR on reads it again, unchanged or
    not. Null in documents recorded before it was kept (their reason says it, in brackets)."""


@dataclass(slots=True)
class SourceContext:
    """What was known of a document before reading it: for a crawled one, the list page's
    link text (often the report's title) and the year the link text or URL names. The
    pipeline uses it only where the document itself does not say (e.g. its year)."""

    link_text: str | None = None
    link_year: int | None = None


@dataclass(slots=True)
class RunSummary:
    """One flow run (crawl, run, nightly, backfill): how it ended, what it found and what it
    loaded. A run that did not finish (stopped, or an error) still has its row: the counts
    are then what it committed before it stopped, null where that is not known."""

    run_id: str
    flow: str
    started_at: dt.datetime
    finished_at: dt.datetime
    """When it finished, or stopped."""
    outcome: str = "finished"
    """finished, terminated (SIGTERM), interrupted (Ctrl-C) or failed (an error: `error` says
    which). Null in runs recorded before it was kept (all of them finished: a run that did
    not finish left no row then). A run killed outright (SIGKILL, power loss) has no row."""
    error: str | None = None
    """Why it did not finish (null if it did)."""
    fetched_new: int | None = 0
    """Fetch counts: null when the crawl was stopped before it finished (what it had
    fetched is kept in the raw store; the next crawl sees it as unchanged)."""
    fetched_changed: int | None = 0
    fetched_unchanged: int | None = 0
    fetch_skipped: int | None = 0
    fetch_failed: int | None = 0
    documents: int | None = 0
    """Documents read or skipped as unchanged; null when the run stopped before its load was
    committed (how many it had read is not kept)."""
    unchanged: int | None = 0
    """Documents skipped because the warehouse already holds them from this parser version."""
    ok: int | None = 0
    """ok … facts_loaded: what the run's load committed (0 when it stopped before its
    commit: a load is committed whole or not at all)."""
    partial: int | None = 0
    failed: int | None = 0
    unsupported: int | None = 0
    quarantined: int | None = 0
    """failed + unsupported: kept in `documents` (and the raw store) with their reason."""
    facts_loaded: int | None = 0
    paths_skipped: int | None = 0
    """Files and folders inside the given folders that were not read (unreadable folders,
    FIFOs and devices, links pointing outside): `skipped` says which and why."""
    skipped: list[str] | None = field(default_factory=list)
    """`path: reason` of each path skipped (null in runs recorded before it was kept)."""
    ocr_pages: int | None = 0
    """Pages and pictures read by OCR in this run (scans, image files, pictures in pages)."""
    ocr_seconds: float | None = 0.0
    """CPU seconds OCR took on them (each document is read on one core: seconds per page =
    ocr_seconds / ocr_pages)."""


@dataclass(slots=True)
class ExtractionResult:
    """Everything one document yields; what `xxgk extract --json` prints and `load/` writes."""

    document: Document
    report: Report
    facts: list[Fact]
    checks: list[CheckResult]
    ocr_pages: int = 0
    """Pages or pictures read by OCR (not stored per document: summed into `runs`)."""
    ocr_seconds: float = 0.0
    """CPU seconds OCR took on them."""

    @property
    def status(self) -> str:
        return self.report.status


def _arrow_type(tp, pa) -> tuple:
    arrow = {
        str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(),
        dt.date: pa.date32(), dt.datetime: pa.timestamp("us", tz="UTC"),
    }
    nullable = False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable = len(args) != len(typing.get_args(tp))
        tp = args[0]
        origin = typing.get_origin(tp)
    if origin is list:
        return pa.list_(arrow[typing.get_args(tp)[0]]), nullable
    return arrow[tp], nullable


def arrow_schema(cls, extra: list | None = None):
    """The Arrow schema of a record class (+ `extra` fields)."""
    import pyarrow as pa

    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        t, nullable = _arrow_type(hints[f.name], pa)
        fields.append(pa.field(f.name, t, nullable=nullable or t == pa.string()))
    return pa.schema(fields + (extra or []))


def _schemas() -> dict:
    import pyarrow as pa

    batch = [pa.field("batch_id", pa.string(), nullable=False)]
    year = [pa.field("data_year", pa.int32(), nullable=False)]
    return {
        "documents": arrow_schema(Document, batch),
        "reports": arrow_schema(Report, batch),
        "facts": arrow_schema(Fact, batch + year),
        "checks": arrow_schema(CheckResult, batch + year),
        "runs": arrow_schema(RunSummary),
    }


def __getattr__(name: str):
    # SCHEMAS is derived on first use: the reader processes, which only build records,
    # never import pyarrow (a tenth of a second per start)
    if name == "SCHEMAS":
        schemas = globals()["SCHEMAS"] = _schemas()
        return schemas
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SCHEMAS: dict
"""Warehouse tables → Arrow schema. `reports`, `facts`, `checks` are partitioned by data_year;
every row carries the `batch_id` of the load that wrote it (what makes it current: see load/)."""
