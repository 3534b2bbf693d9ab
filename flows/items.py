"""The typed values the flows pass along: work items in, batch outcomes, crawl and load
summaries out. No Prefect here (the CLI reads them without importing it)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extract.crawl import CrawlItem
from load.reads import StoredDocument
from load.warehouse import Part
from transform.records import ExtractionResult

from .discover import Skip

STATUSES = ("ok", "partial", "failed", "unsupported")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One document to extract: where its bytes are, and what its `documents` row records
    about where they came from."""

    path: str
    source: str
    """URL or path: what identifies the document in the warehouse."""
    fetched_at: dt.datetime | None = None
    origin: str | None = None
    """The crawl source's slug (null for files ingested from disk)."""
    raw_path: str | None = None
    """Where the raw store keeps its bytes, relative to the warehouse."""
    link_text: str | None = None
    link_year: int | None = None
    """The text of the list-page link the crawler followed and the year it names (the
    report's year when the document states none)."""

    @classmethod
    def of_file(cls, path: Path | str) -> WorkItem:
        return cls(str(path), str(path))

    @classmethod
    def of_crawl(cls, item: CrawlItem, warehouse: Path) -> WorkItem:
        p, root = Path(item.path), Path(warehouse)
        return cls(str(p), item.url, dt.datetime.fromisoformat(item.fetched_at) if item.fetched_at else None,
                   item.source, str(p.relative_to(root)) if p.is_relative_to(root) else str(p), item.title, item.year)

    @classmethod
    def of_stored(cls, doc: StoredDocument, warehouse: Path) -> WorkItem:
        """Re-extract a stored document from the raw store's copy (else its source file)."""
        return cls(str(doc.bytes_at(warehouse)), doc.source, doc.fetched_at, doc.origin, doc.raw_path,
                   doc.link_text, doc.link_year)


@dataclass(frozen=True, slots=True)
class Problem:
    """A document that was not read cleanly, for the CLI's summary."""

    source: str
    status: str
    reason: str | None


@dataclass(slots=True)
class BatchOutcome:
    """What extracting one batch gave: its part when written where it ran (a cluster
    worker), else its results for the caller to write."""

    unchanged: int
    statuses: Counter
    problems: list[Problem]
    part: Part | None = None
    results: list[ExtractionResult] | None = None
    ocr_pages: int = 0
    ocr_seconds: float = 0.0

    @classmethod
    def of(cls, results: list[ExtractionResult], unchanged: int, part: Part | None) -> BatchOutcome:
        return cls(unchanged, Counter(r.status for r in results),
                   [Problem(r.document.source, r.status, r.report.reason) for r in results if r.status != "ok"],
                   part, results if part is None else None, sum(r.ocr_pages for r in results),
                   sum(r.ocr_seconds for r in results))


@dataclass(slots=True)
class LoadSummary:
    """What one load did: documents seen, skipped as unchanged, by status, facts loaded."""

    documents: int = 0
    unchanged: int = 0
    ok: int = 0
    partial: int = 0
    failed: int = 0
    unsupported: int = 0
    facts_loaded: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    """What the given folders hold but was not read (flows/discover.py), with the reasons."""
    ocr_pages: int = 0
    ocr_seconds: float = 0.0
    """CPU seconds of OCR (see RunSummary)."""

    @property
    def quarantined(self) -> int:
        return self.failed + self.unsupported

    @classmethod
    def of(cls, outcomes: list[BatchOutcome], facts_loaded: int) -> LoadSummary:
        counts: Counter = Counter()
        for o in outcomes:
            counts.update(o.statuses)
        unchanged = sum(o.unchanged for o in outcomes)
        return cls(sum(counts.values()) + unchanged, unchanged, *(counts.get(s, 0) for s in STATUSES),
                   facts_loaded, [p for o in outcomes for p in o.problems],
                   ocr_pages=sum(o.ocr_pages for o in outcomes),
                   ocr_seconds=round(sum(o.ocr_seconds for o in outcomes), 3))


@dataclass(slots=True)
class CrawlSummary:
    """What a crawl of some sources found and fetched."""

    sources: list[str]
    counts: dict[str, int]
    """Status (new, changed, unchanged, skipped, failed, planned) → items, list pages excluded."""
    items: list[CrawlItem]
    requests: int = 0
    run_id: str | None = None

    @property
    def skipped(self) -> list[CrawlItem]:
        return [it for it in self.items if it.status in ("skipped", "failed")]

    @property
    def fetch_failed(self) -> int:
        """Every fetch that failed, list pages included (what the `runs` row counts)."""
        return sum(1 for it in self.items if it.status == "failed")

    @property
    def unreachable(self) -> list[str]:
        """Sources none of whose list pages could be fetched (nothing of them was crawled)."""
        lists: dict[str, list[str]] = {}
        for it in self.items:
            if it.kind == "list":
                lists.setdefault(it.source, []).append(it.status)
        return [s for s in self.sources if lists.get(s) and all(st == "failed" for st in lists[s])]


@dataclass(slots=True)
class FlowSummary:
    """What `run`, `nightly` and `backfill` return: the load, the crawl before it (if any)
    and the id of the run's row in the `runs` view."""

    load: LoadSummary
    crawl: CrawlSummary | None = None
    run_id: str | None = None


class SourcesUnreachable(Exception):
    """Every source of a crawl was unreachable: the flow run ends Failed (after its `runs`
    row is written); `summary` is what the flow would have returned."""

    def __init__(self, summary: FlowSummary | CrawlSummary, unreachable: list[str]) -> None:
        super().__init__(f"every source was unreachable ({', '.join(unreachable)}): nothing was crawled")
        self.summary, self.unreachable = summary, unreachable

    def __reduce__(self):
        return (type(self), (self.summary, self.unreachable))
