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

from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from extract import ExtractSettings  # noqa: E402
from extract.crawl import CrawlReport, RawStore, Source, crawl_source, load_sources  # noqa: E402
from load import raw_root  # noqa: E402
from load.reads import documents_for, stale_documents  # noqa: E402

from .items import BatchOutcome, CrawlSummary, FlowSummary, LoadSummary, SourcesUnreachable, WorkItem  # noqa: E402
from .progress import advance  # noqa: E402
from .sandbox import default_sandbox  # noqa: E402
from .work import (  # noqa: E402, F401 - DEFAULT_SETTINGS, batch_size_for, extract_items: re-exported
    DEFAULT_BATCH,
    DEFAULT_SETTINGS,
    MIN_BATCH,
    Opaque,
    RunRecord,
    batch_size_for,
    discover_items,
    existing,
    extract_items,
    extract_part,
    in_process,
    load_items,
    recorded,
)

# ---------------------------------------------------------------- tasks


@task(name="discover", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def discover_task(paths: list[str], follow_symlinks: bool = False) -> tuple[list[WorkItem], list]:
    """(work items, what was skipped in the folders: flows.discover.Skip)."""
    return discover_items(paths, follow_symlinks)


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


def _fail_if_unreachable(crawl: CrawlSummary | None, summary: FlowSummary | CrawlSummary):
    """`summary`, or SourcesUnreachable when no source of `crawl` could be reached."""
    if crawl is not None and crawl.sources and len(crawl.unreachable) == len(crawl.sources):
        raise SourcesUnreachable(summary, crawl.unreachable)
    return summary


# ---------------------------------------------------------------- flows


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
             settings: ExtractSettings, run: RunRecord | None = None) -> LoadSummary:
    """Extract `items` in batches as Prefect tasks (each written as a part of one load) and
    commit the load (work.load_items). Opaque: Prefect would otherwise walk every element of
    these collections looking for futures (a large cost for thousands of documents)."""
    if parallelism <= 1:
        def one(b: list[WorkItem], known: dict[str, str], batch_id: str) -> BatchOutcome:
            return extract_batch(Opaque(b), Opaque(known), warehouse, batch_id, None, first=Path(b[0].path).name,
                                 settings=settings).value

        return load_items(items, warehouse, batch_size, force, parallelism, in_process(warehouse, settings, one), run)

    def fan_out(batches: list[list[WorkItem]], known: dict[str, str], batch_id: str):
        client = _dask_client()
        if client is not None:
            outs = _on_dask(batches, known, warehouse, batch_id, settings, client)
        else:
            futures = [extract_batch.submit(Opaque(b), Opaque(known), warehouse, batch_id, k,
                                            first=Path(b[0].path).name, settings=settings)
                       for k, b in enumerate(batches)]
            outs = [f.result().value for f in futures]
        return outs, [o.part for o in outs]

    return load_items(items, warehouse, batch_size, force, parallelism, fan_out, run)


@flow(name="xxgk-run", log_prints=False)
def run_flow(paths: list[str] | None = None, warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH,
             items: list[WorkItem] | None = None, force: bool = False, record: bool = True,
             parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS, stale: bool = False,
             follow_symlinks: bool = False) -> FlowSummary:
    """Extract → transform → check → load files/directories (or crawled `items`); `stale`:
    also every document an older parser version handled (from the raw store, else its
    source file); `follow_symlinks`: also links in the folders that point outside them."""
    with recorded(warehouse, "run", record) as run:
        _prestart(parallelism)
        work = list(items or [])
        if paths:
            run.skipped = None
            found, run.skipped = discover_task(paths, follow_symlinks)
            work += found
        if stale:
            work += existing(stale_documents(Path(warehouse)), warehouse)
        load = _process(work, warehouse, batch_size, force, parallelism, settings, run)
        load.skipped = run.skipped
        get_run_logger().info("run: %s", {k: getattr(load, k) for k in load.__dataclass_fields__ if k != "problems"})
    return FlowSummary(load, run_id=run.run_id)


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


@flow(name="xxgk-crawl", log_prints=False)
def crawl_flow(registry: str, warehouse: str = "warehouse", sources: list[str] | None = None,
               years: list[int] | None = None, dry_run: bool = False, record: bool = True) -> CrawlSummary:
    """Fetch what is new or changed from the registry's sources into the raw store."""
    with recorded(warehouse, "crawl", record and not dry_run, crawls=True) as run:
        out = run.crawl = _crawl(registry, warehouse, sources, years, dry_run)
    out.run_id = run.run_id
    return _fail_if_unreachable(out, out)


@flow(name="xxgk-nightly", log_prints=False)
def nightly_flow(registry: str, warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH,
                 parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS) -> FlowSummary:
    """Crawl every source, then extract and load what is new or changed (and whatever an
    older parser version handled)."""
    with recorded(warehouse, "nightly", crawls=True) as run:
        _prestart(parallelism)
        crawl = run.crawl = _crawl(registry, warehouse, None, None, False)
        items = _work_items(crawl, warehouse) + existing(stale_documents(Path(warehouse)), warehouse)
        load = _process(items, warehouse, batch_size, False, parallelism, settings, run)
    return _fail_if_unreachable(crawl, FlowSummary(load, crawl, run.run_id))


@flow(name="xxgk-backfill", log_prints=False)
def backfill_flow(registry: str | None = None, warehouse: str = "warehouse", years: list[int] | None = None,
                  sources: list[str] | None = None, reparse: bool = False, batch_size: int = DEFAULT_BATCH,
                  parallelism: int = 1, settings: ExtractSettings = DEFAULT_SETTINGS) -> FlowSummary:
    """Years and/or sources by hand. `reparse`: re-extract from the raw store (and the
    files ingested from disk) without fetching anything."""
    if not reparse and registry is None:
        raise ValueError("backfill without --reparse crawls: it needs the source registry (--sources-file)")
    with recorded(warehouse, "backfill", crawls=not reparse) as run:
        _prestart(parallelism)
        crawl = None
        if reparse:
            items = existing(documents_for(Path(warehouse), years, sources), warehouse)
        else:
            crawl = run.crawl = _crawl(registry, warehouse, sources, years, False)
            items = _work_items(crawl, warehouse)
        load = _process(items, warehouse, batch_size, reparse, parallelism, settings, run)
    return _fail_if_unreachable(crawl, FlowSummary(load, crawl, run.run_id))
