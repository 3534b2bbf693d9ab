"""Prefect 3 flows: `xxgk-run`, `xxgk-crawl`, `xxgk-nightly`, `xxgk-backfill`.

Work is batched: one extract task per batch of documents (a Prefect task run costs about
30 ms of orchestration, as much as parsing an HTML report); on a Dask cluster the batches
are plain Dask tasks on the flow's own cluster. A document whose source and
bytes the warehouse already holds from the current parser version is skipped (the cache:
document hash + parser version), so re-runs do no repeated work. Tasks that do I/O carry
retries. The same flows run on a Dask cluster (see flows/runners.py).
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # Dask's start-up chatter off the terminal

import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from extract import ExtractSettings  # noqa: E402
from extract.crawl import CrawlReport, RawStore, Source, crawl_source, load_sources  # noqa: E402
from load import (  # noqa: E402
    Part,
    clean_temporaries,
    commit,
    new_batch_id,
    raw_root,
    write_lock,
    write_part,
    write_run_summary,
)
from load.reads import QUARANTINE, StoredDocument, documents_for, known_documents, stale_documents  # noqa: E402
from transform.pipeline import process_file  # noqa: E402
from transform.records import ExtractionResult, RunSummary, SourceContext  # noqa: E402

from .discover import discover_files  # noqa: E402
from .items import BatchOutcome, CrawlSummary, FlowSummary, LoadSummary, WorkItem  # noqa: E402
from .progress import advance  # noqa: E402
from .sandbox import default_sandbox, process_isolated  # noqa: E402

DEFAULT_BATCH = 0
"""0: automatic (see batch_size_for)."""
MIN_BATCH = 25
DEFAULT_SETTINGS = ExtractSettings()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------- tasks


@task(name="discover", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def discover_task(paths: list[str]) -> list[WorkItem]:
    return [WorkItem.of_file(p) for p in discover_files(paths)]


def extract_items(items: list[WorkItem], known: dict[str, str], warehouse: str,
                  settings: ExtractSettings = DEFAULT_SETTINGS,
                  isolate: bool = True) -> tuple[list[ExtractionResult], int]:
    """Extract a batch (no Prefect here: the benchmark calls it directly). Returns
    (results, documents skipped as unchanged). `isolate`: read each document in this
    process's reader process, under the memory and time limits (flows/sandbox.py)."""
    read = process_isolated if isolate else process_file
    results, unchanged = [], 0
    store = RawStore(raw_root(Path(warehouse)))
    for item in items:
        path = Path(item.path)
        sha = _sha_of(path)
        if sha is not None and known.get(item.source) == sha:
            unchanged += 1
            advance(1)
            continue
        context = SourceContext(item.link_text, item.link_year)
        res = read(path, settings, source=item.source, context=context)
        doc = res.document
        if item.fetched_at:
            doc.fetched_at = item.fetched_at
        doc.origin = item.origin
        doc.link_text, doc.link_year = item.link_text, item.link_year
        if item.raw_path:
            doc.raw_path = item.raw_path
        elif res.status in QUARANTINE and sha is not None:
            # quarantine is a status, not a lost file: keep the bytes in the raw store
            _, stored, _ = store.put_file(path, sha)
            doc.raw_path = str(stored.relative_to(Path(warehouse)))
        results.append(res)
        advance(1)
    return results, unchanged


def _sha_of(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


class Opaque:
    """A value Prefect passes along without looking inside (it would walk every element of
    a list of thousands of documents or millions of facts, looking for futures). Unlike
    prefect's `quote`, it survives the trip to a Dask worker."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __getstate__(self):
        return self.value

    def __setstate__(self, value) -> None:
        self.value = value


def extract_part(items: list[WorkItem], known: dict[str, str], warehouse: str, batch_id: str, part: int | None,
                 settings: ExtractSettings = DEFAULT_SETTINGS) -> BatchOutcome:
    """Extract a batch. With a `part` number (on a cluster), write it as one uncommitted part
    of the load on whichever worker runs it, so that only the small document records travel
    back; without one (in-process), return the results for the caller to write at once."""
    results, unchanged = extract_items(items, known, warehouse, settings)
    written = write_part(Path(warehouse), results, batch_id, part) if part is not None else None
    return BatchOutcome.of(results, unchanged, written)


@task(name="extract-batch", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE,
      task_run_name="extract-{first}")
def extract_batch(items: Opaque, known: Opaque, warehouse: str, batch_id: str, part: int | None,
                  first: str = "", settings: ExtractSettings = DEFAULT_SETTINGS) -> Opaque:
    """`extract_part` as a Prefect task (in-process runs, and task runners other than Dask)."""
    return Opaque(extract_part(items.value, known.value, warehouse, batch_id, part, settings))


def _on_dask(batches: list[list[WorkItem]], known: dict[str, str], warehouse: str, batch_id: str,
             settings: ExtractSettings, client) -> list[BatchOutcome]:
    """Fan the batches out as plain Dask tasks on the flow's own cluster (prefect-dask's
    client): workers then make no Prefect API calls at all (a task run costs a worker
    ~0.25 s of CPU), and the progress bar advances as batches finish."""
    from distributed import as_completed

    known_f = client.scatter(known, broadcast=True) if known else {}
    futures = {client.submit(extract_part, b, known_f, warehouse, batch_id, k, settings, pure=False, retries=1,
                             key=f"extract-{batch_id}-{k}"): (k, len(b)) for k, b in enumerate(batches)}
    outs: list[BatchOutcome | None] = [None] * len(batches)
    for fut in as_completed(futures, loop=client.loop):
        k, n = futures[fut]
        outs[k] = fut.result()
        advance(n)
    return outs


@task(name="crawl-source", retries=1, retry_delay_seconds=[10], cache_policy=NO_CACHE,
      task_run_name="crawl-{source.slug}")
def crawl_task(source: Source, warehouse: str, years: list[int] | None, dry_run: bool) -> CrawlReport:
    return crawl_source(source, RawStore(raw_root(Path(warehouse))), set(years) if years else None, dry_run,
                        progress=advance)


class SourcesUnreachable(Exception):
    """Every source of a crawl was unreachable: the flow run ends Failed (after its `runs`
    row is written); `summary` is what the flow would have returned."""

    def __init__(self, summary: FlowSummary | CrawlSummary, unreachable: list[str]) -> None:
        super().__init__(f"every source was unreachable ({', '.join(unreachable)}): nothing was crawled")
        self.summary, self.unreachable = summary, unreachable

    def __reduce__(self):
        return (type(self), (self.summary, self.unreachable))


def _fail_if_unreachable(crawl: CrawlSummary | None, summary: FlowSummary | CrawlSummary):
    """`summary`, or SourcesUnreachable when no source of `crawl` could be reached."""
    if crawl is not None and crawl.sources and len(crawl.unreachable) == len(crawl.sources):
        raise SourcesUnreachable(summary, crawl.unreachable)
    return summary


# ---------------------------------------------------------------- flows


def _record(warehouse: str, flow_name: str, started: dt.datetime, load: LoadSummary | None,
            crawl: CrawlSummary | None) -> str:
    load, counts = load or LoadSummary(), (crawl.counts if crawl else {})
    summary = RunSummary(
        run_id=f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", flow=flow_name, started_at=started,
        finished_at=_now(), fetched_new=counts.get("new", 0), fetched_changed=counts.get("changed", 0),
        fetched_unchanged=counts.get("unchanged", 0), fetch_skipped=counts.get("skipped", 0),
        fetch_failed=crawl.fetch_failed if crawl else 0, documents=load.documents, unchanged=load.unchanged,
        ok=load.ok, partial=load.partial, failed=load.failed, unsupported=load.unsupported,
        quarantined=load.quarantined, facts_loaded=load.facts_loaded)
    write_run_summary(Path(warehouse), summary)
    return summary.run_id


def batch_size_for(n: int, batch_size: int, parallelism: int) -> int:
    """`batch_size` if given (> 0); else at least MIN_BATCH documents per batch (a Prefect
    task run costs ~30 ms in-process; a Dask task less, but each batch writes its own part
    files): on one worker about 4 batches, on N workers about 2 per worker (enough to even
    out their loads)."""
    if batch_size > 0:
        return batch_size
    per_worker = 4 if parallelism <= 1 else 2
    return max(MIN_BATCH, -(-n // (per_worker * max(1, parallelism))))


def _prestart(parallelism: int) -> None:
    """Start this process's reader process early when the batches will run here."""
    if parallelism <= 1:
        default_sandbox().prestart()


def _dask_client():
    """The Dask client of the running flow's task runner, or None if it is not a Dask runner."""
    from prefect.context import FlowRunContext
    from prefect_dask import DaskTaskRunner

    runner = getattr(FlowRunContext.get(), "task_runner", None)
    return runner.client if isinstance(runner, DaskTaskRunner) else None


def _process(items: list[WorkItem], warehouse: str, batch_size: int, force: bool, parallelism: int,
             settings: ExtractSettings) -> LoadSummary:
    """Extract `items` in batches (each written as a part of one load) and commit the load.
    The writer lock is held for the whole load: a second run waits, then refuses."""
    known = {} if force else known_documents(Path(warehouse))
    size = batch_size_for(len(items), batch_size, parallelism)
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    root = Path(warehouse)
    with write_lock(root):
        clean_temporaries(root)
        batch_id = new_batch_id()
        # Opaque: Prefect would otherwise walk every element of these collections looking
        # for futures (a large cost for thousands of documents)
        if parallelism <= 1:
            # one worker: batches one after the other (threads would only fight for the GIL),
            # written as a single part
            outs = [extract_batch(Opaque(b), Opaque(known), warehouse, batch_id, None,
                                  first=Path(b[0].path).name, settings=settings).value for b in batches]
            results = [r for o in outs for r in o.results]
            parts: list[Part] = [write_part(root, results, batch_id, 0)] if results else []
        else:
            client = _dask_client()
            if client is not None:
                outs = _on_dask(batches, known, warehouse, batch_id, settings, client)
            else:
                futures = [extract_batch.submit(Opaque(b), Opaque(known), warehouse, batch_id, k,
                                                first=Path(b[0].path).name, settings=settings)
                           for k, b in enumerate(batches)]
                outs = [f.result().value for f in futures]
            parts = [o.part for o in outs]
        n = commit(root, batch_id, parts) if parts else 0
    return LoadSummary.of(outs, n)


@flow(name="xxgk-run", log_prints=False)
def run_flow(paths: list[str] | None = None, warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH,
             items: list[WorkItem] | None = None, force: bool = False, record: bool = True,
             parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS, stale: bool = False) -> FlowSummary:
    """Extract → transform → check → load files/directories (or crawled `items`); `stale`:
    also every document an older parser version handled (from the raw store, else its
    source file)."""
    started = _now()
    _prestart(parallelism)
    work = list(items or [])
    if paths:
        work += discover_task(paths)
    if stale:
        work += _existing(stale_documents(Path(warehouse)), warehouse)
    load = _process(work, warehouse, batch_size, force, parallelism, settings)
    get_run_logger().info("run: %s", {k: getattr(load, k) for k in load.__dataclass_fields__ if k != "problems"})
    return FlowSummary(load, run_id=_record(warehouse, "run", started, load, None) if record else None)


def _crawl(registry: str, warehouse: str, sources: list[str] | None, years: list[int] | None,
           dry_run: bool) -> CrawlSummary:
    chosen = load_sources(Path(registry))
    if sources:
        unknown = set(sources) - {s.slug for s in chosen}
        if unknown:
            raise ValueError(f"unknown source(s) {', '.join(sorted(unknown))} in {registry}")
        chosen = [s for s in chosen if s.slug in sources]
    futures = [crawl_task.submit(s, warehouse, years, dry_run) for s in chosen]
    reports = [f.result() for f in futures]
    counts: Counter = Counter()
    for r in reports:
        counts.update(r.counts())
    return CrawlSummary([r.source for r in reports], dict(counts), [it for r in reports for it in r.items],
                        sum(r.requests for r in reports))


def _work_items(crawl: CrawlSummary, warehouse: str, statuses=("new", "changed", "unchanged")) -> list[WorkItem]:
    return [WorkItem.of_crawl(it, Path(warehouse)) for it in crawl.items
            if it.kind != "list" and it.document and it.status in statuses and it.path]


def _existing(docs: list[StoredDocument], warehouse: str) -> list[WorkItem]:
    """Work items re-extracting stored documents whose bytes are still there."""
    items = [WorkItem.of_stored(d, Path(warehouse)) for d in docs]
    return [it for it in items if Path(it.path).exists()]


@flow(name="xxgk-crawl", log_prints=False)
def crawl_flow(registry: str, warehouse: str = "warehouse", sources: list[str] | None = None,
               years: list[int] | None = None, dry_run: bool = False, record: bool = True) -> CrawlSummary:
    """Fetch what is new or changed from the registry's sources into the raw store."""
    started = _now()
    out = _crawl(registry, warehouse, sources, years, dry_run)
    if record and not dry_run:
        out.run_id = _record(warehouse, "crawl", started, None, out)
    return _fail_if_unreachable(out, out)


@flow(name="xxgk-nightly", log_prints=False)
def nightly_flow(registry: str, warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH,
                 parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS) -> FlowSummary:
    """Crawl every source, then extract and load what is new or changed (and whatever an
    older parser version handled)."""
    started = _now()
    _prestart(parallelism)
    crawl = _crawl(registry, warehouse, None, None, False)
    items = _work_items(crawl, warehouse) + _existing(stale_documents(Path(warehouse)), warehouse)
    load = _process(items, warehouse, batch_size, False, parallelism, settings)
    return _fail_if_unreachable(crawl, FlowSummary(load, crawl, _record(warehouse, "nightly", started, load, crawl)))


@flow(name="xxgk-backfill", log_prints=False)
def backfill_flow(registry: str | None = None, warehouse: str = "warehouse", years: list[int] | None = None,
                  sources: list[str] | None = None, reparse: bool = False, batch_size: int = DEFAULT_BATCH,
                  parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS) -> FlowSummary:
    """Years and/or sources by hand. `reparse`: re-extract from the raw store (and the
    files ingested from disk) without fetching anything."""
    started = _now()
    _prestart(parallelism)
    crawl = None
    if reparse:
        items = _existing(documents_for(Path(warehouse), years, sources), warehouse)
    else:
        if registry is None:
            raise ValueError("backfill without --reparse crawls: it needs the source registry (--sources-file)")
        crawl = _crawl(registry, warehouse, sources, years, False)
        items = _work_items(crawl, warehouse)
    load = _process(items, warehouse, batch_size, reparse, parallelism, settings)
    return _fail_if_unreachable(crawl, FlowSummary(load, crawl, _record(warehouse, "backfill", started, load, crawl)))
