"""The work of the flows without Prefect: extract a batch, load batches under the writer
lock, record the run. flows/run.py wraps these in Prefect tasks and flows; `xxgk run`
calls `run_local` directly when no Prefect server is configured (importing Prefect and
starting its temporary API takes most of the 10 s such a run used to cost; see README,
"Start-up"). Imports no Prefect."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extract import ExtractSettings, sniff_format
from extract.crawl import RawStore
from extract.crawl.store import read_once
from extract.html import page_identity, pictures_beside
from load import (
    Part,
    clean_temporaries,
    commit,
    is_committed,
    new_batch_id,
    raw_root,
    write_lock,
    write_part,
    write_run_summary,
)
from load.reads import QUARANTINE, StoredDocument, known_documents, stale_documents
from transform.records import ExtractionResult, RunSummary, SourceContext

from .discover import Skip, discover
from .ending import outcome_of
from .items import BatchOutcome, CrawlSummary, FlowSummary, LoadSummary, WorkItem
from .progress import advance
from .sandbox import default_sandbox, process_isolated

log = logging.getLogger("xxgk.run")

DEFAULT_BATCH = 0
"""0: automatic (see batch_size_for)."""
MIN_BATCH = 25
DEFAULT_SETTINGS = ExtractSettings()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def extract_items(items: list[WorkItem], known: dict[str, str], warehouse: str,
                  settings: ExtractSettings = DEFAULT_SETTINGS,
                  isolate: bool = True) -> tuple[list[ExtractionResult], int]:
    """Extract a batch (no Prefect here: the benchmark calls it directly). Returns
    (results, documents skipped as unchanged). `isolate`: read each document in this
    process's reader process, under the memory and time limits (flows/sandbox.py)."""
    from transform.pipeline import failed_result, process_file

    read = process_isolated if isolate else process_file
    results, unchanged = [], 0
    store = RawStore(raw_root(Path(warehouse)))
    for item in items:
        path = Path(item.path)
        got = read_once(path, settings.max_bytes)  # read once: what is hashed is what is read and stored
        sha = got.sha256 if got is not None else _sha_of(path)
        if sha is not None and item.source in known and known[item.source] != sha and got is not None \
                and got.data is not None:
            sha = _identity(path, got.data, sha)  # a page whose pictures are beside it is known by them too
        if sha is not None and known.get(item.source) == sha:
            unchanged += 1
            advance(1)
            continue
        if got is not None and got.refused:
            results.append(failed_result(path, hashlib.sha256(str(path).encode()).hexdigest(), 0, "unknown",
                                         "failed", got.refused, item.source))
            advance(1)
            continue
        context = SourceContext(item.link_text, item.link_year)
        res = read(path, settings, source=item.source, context=context, data=got.data if got else None)
        doc = res.document
        if item.fetched_at:
            doc.fetched_at = item.fetched_at
        doc.origin = item.origin
        doc.link_text, doc.link_year = item.link_text, item.link_year
        if item.raw_path:
            doc.raw_path = item.raw_path
        elif res.status in QUARANTINE and sha is not None:
            # quarantine is a status, not a lost file: keep the bytes in the raw store
            try:
                page_sha, stored, _ = store.put(got.data, path.name, got.mode) if got else store.put_file(path, sha)
                doc.raw_path = str(stored.relative_to(Path(warehouse)))
                if got is not None and got.data is not None and doc.format == "html":
                    _keep_pictures(store, path, got.data, page_sha, doc.doc_sha256)
            except OSError as exc:  # the document row still says why it failed
                log.warning("raw copy of %s not kept: %s", path, exc)
        results.append(res)
        advance(1)
    return results, unchanged


def _keep_pictures(store: RawStore, path: Path, data: bytes, page_sha: str, identity: str) -> None:
    """Keep the pictures a local page read from beside it with its raw copy (its picture
    map, `raw/page-images/<page sha>.json`, as the crawler keeps a crawled page's): a
    re-read from the raw store (`quarantine --retry`, `run --stale`, `repair`, `backfill
    --reparse`) then reads the same pictures, so the document keeps its identity and its
    tables, even once the folder it came from is gone. Pictures that changed since the
    page was read (the identity they give is not the recorded one) are not mapped: the
    copy is re-read without them, and says so."""
    got = pictures_beside(path, data, lambda b: store.put(b, "picture")[0])
    if got is None:
        return
    pictures, now = got
    if now != identity:
        log.warning("pictures of %s changed while it was read: not kept with its raw copy", path)
        return
    store.put_page_images(page_sha, pictures.images, pictures.refused)


def _identity(path: Path, data: bytes, sha: str) -> str:
    """The document's identity as the reader records it: an HTML page's pictures read from
    beside it are part of it (`extract.html.page_identity`); any other file is its bytes."""
    if sniff_format(path, data[:8192]) != "html":
        return sha
    try:
        return page_identity(path, data, sha)
    except Exception:  # noqa: BLE001 - a page the check cannot parse is read again; the reader says why
        return sha


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


@dataclass(slots=True)
class RunRecord:
    """What a flow run has done so far, for its `runs` row however it ends (`recorded`)."""

    flow: str
    started: dt.datetime
    crawls: bool = False
    """Whether the flow crawls: until `crawl` is set, its fetch counts are unknown."""
    crawl: CrawlSummary | None = None
    skipped: list[Skip] | None = field(default_factory=list)
    """What discovery skipped (None while discovering)."""
    load: LoadSummary | None = None
    """The load's summary once committed."""
    batch_id: str | None = None
    committing: tuple[list[BatchOutcome], list[Part]] | None = None
    """The load's outcomes and parts while it is being committed."""
    run_id: str | None = None
    warehouse: str = ""


def _summary(run: RunRecord, exc: BaseException | None) -> RunSummary:
    """The `runs` row of `run`, ended by `exc` (None: finished). A stopped run counts what it
    committed: a load is committed whole by its documents file, so a run stopped before it
    loaded nothing (0), one stopped while committing loaded everything if that file was
    written; what is not known (documents read before the stop, an unfinished crawl's
    fetches) is null."""
    outcome, error = outcome_of(exc)
    crawl, load, unknown = run.crawl, run.load, None
    if load is None and run.committing is not None and run.batch_id is not None:
        outs, parts = run.committing
        if is_committed(Path(run.warehouse), run.batch_id):
            load = LoadSummary.of(outs, sum(p.facts for p in parts))
    if load is None and exc is not None and run.flow != "crawl":  # a crawl loads nothing: its zeros are true
        error = f"{error}; nothing of its load was committed"
        load = LoadSummary(documents=unknown, unchanged=unknown, ocr_pages=unknown, ocr_seconds=unknown)
    load = load or LoadSummary()
    counts = crawl.counts if crawl else {}
    fetch = (lambda k: counts.get(k, 0)) if crawl is not None or not run.crawls else (lambda k: unknown)
    skipped = run.skipped
    return RunSummary(
        run_id=f"{run.started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", flow=run.flow, started_at=run.started,
        finished_at=now(), outcome=outcome, error=error, fetched_new=fetch("new"),
        fetched_changed=fetch("changed"), fetched_unchanged=fetch("unchanged"), fetch_skipped=fetch("skipped"),
        fetch_failed=crawl.fetch_failed if crawl else fetch("failed"), documents=load.documents,
        unchanged=load.unchanged, ok=load.ok, partial=load.partial, failed=load.failed,
        unsupported=load.unsupported, quarantined=load.quarantined, facts_loaded=load.facts_loaded,
        paths_skipped=len(skipped) if skipped is not None else unknown,
        skipped=[str(s) for s in skipped] if skipped is not None else None,
        ocr_pages=load.ocr_pages, ocr_seconds=load.ocr_seconds)


@dataclass(slots=True)
class Written:
    """The `runs` rows this process wrote: how many (how `recorded_by_caller` knows the flow
    wrote its own) and the last one (what the CLI says of a run it stopped). Two fields, not
    a list: a long `xxgk serve` process writes a row every night."""

    count: int = 0
    last: RunSummary | None = None


WRITTEN = Written()


@contextlib.contextmanager
def recorded_by_caller(warehouse: str, flow_name: str, record: bool = True) -> Iterator[None]:
    """Around a flow's call (the CLI's): a run stopped before its flow began (while Prefect
    starts, or while the CLI counts the files), which the flow could not record, still gets
    its row; nothing was fetched or loaded then."""
    before, started = WRITTEN.count, now()
    try:
        yield
    except BaseException as exc:
        if record and WRITTEN.count == before:
            summary = _summary(RunRecord(flow_name, started, warehouse=warehouse), exc)
            summary.error = f"{summary.error} (before the flow began)"
            try:
                _write(warehouse, summary, wait_seconds=2.0)
            except Exception as write_exc:  # noqa: BLE001 - the run's own error is what the caller must see
                log.warning("the run's summary could not be written: %s: %s", type(write_exc).__name__, write_exc)
        raise


@contextlib.contextmanager
def recorded(warehouse: str, flow_name: str, record: bool = True, crawls: bool = False) -> Iterator[RunRecord]:
    """Write the run's `runs` row when the block ends, however it ends: finished, stopped
    (SIGTERM, Ctrl-C) or an error (re-raised once the row is written). The writer lock is
    already released then (the load's block unwound first). `record=False`: no row."""
    run = RunRecord(flow_name, now(), crawls, warehouse=warehouse)
    try:
        yield run
    except BaseException as exc:
        if record:
            try:
                run.run_id = _write(warehouse, _summary(run, exc), wait_seconds=2.0)
            except Exception as write_exc:  # noqa: BLE001 - the run's own error is what the caller must see
                log.warning("the run's summary could not be written: %s: %s", type(write_exc).__name__, write_exc)
        raise
    if record:
        run.run_id = _write(warehouse, _summary(run, None))


def _write(warehouse: str, summary: RunSummary, wait_seconds: float = 60.0) -> str:
    WRITTEN.count += 1  # first: stopped while writing it, the caller must not write a second, wrong row
    WRITTEN.last = summary
    write_run_summary(Path(warehouse), summary, wait_seconds)
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


RunBatches = Callable[[list[list[WorkItem]], dict[str, str], str], tuple[list[BatchOutcome], list[Part]]]
"""(batches, known documents, batch id) → (their outcomes, the parts written)."""


def load_items(items: list[WorkItem], warehouse: str, batch_size: int, force: bool, parallelism: int,
               run_batches: RunBatches, run: RunRecord | None = None) -> LoadSummary:
    """Extract `items` in batches (`run_batches`: in this process, as Prefect tasks or on
    Dask) and commit them as one load. The writer lock is held for the whole load: a second
    run waits, then refuses. `run`: told the load's batch, its commit and its summary (what
    the `runs` row of a run stopped midway counts)."""
    from transform.pipeline import load_reference_data

    load_reference_data()  # a mistake in data/ fails the run here, before anything is written
    known = {} if force else known_documents(Path(warehouse))
    size = batch_size_for(len(items), batch_size, parallelism)
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    root = Path(warehouse)
    with write_lock(root):
        clean_temporaries(root)
        batch_id = new_batch_id(root=root)
        if run is not None:
            run.batch_id = batch_id
        outs, parts = run_batches(batches, known, batch_id)
        if run is not None:
            run.committing = (outs, parts)
        n = commit(root, batch_id, parts) if parts else 0
        summary = LoadSummary.of(outs, n)
        if run is not None:
            run.load = summary
    return summary


def in_process(warehouse: str, settings: ExtractSettings, extract: Callable | None = None) -> RunBatches:
    """Batches one after the other in this process (threads would only fight for the GIL),
    written as a single part. `extract(batch, known, batch_id)`: how one batch is extracted
    (a Prefect task in a flow), default `extract_part` without a part number."""
    def run(batches: list[list[WorkItem]], known: dict[str, str], batch_id: str):
        outs = [extract(b, known, batch_id) if extract else extract_part(b, known, warehouse, batch_id, None, settings)
                for b in batches]
        results = [r for o in outs for r in o.results]
        return outs, ([write_part(Path(warehouse), results, batch_id, 0)] if results else [])

    return run


def existing(docs: list[StoredDocument], warehouse: str) -> list[WorkItem]:
    """Work items re-extracting stored documents whose bytes are still there."""
    items = [WorkItem.of_stored(d, Path(warehouse)) for d in docs]
    return [it for it in items if Path(it.path).exists()]


def discover_items(paths: list[str], follow_symlinks: bool = False) -> tuple[list[WorkItem], list[Skip]]:
    """Work items of the files under `paths`, and what was skipped there (each logged; the
    CLI prints them in the run's summary)."""
    files, skipped = discover(paths, follow_symlinks)
    for s in skipped:
        log.info("skipped %s", s)
    return [WorkItem.of_file(p) for p in files], skipped


def run_local(paths: list[str] | None = None, warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH,
              items: list[WorkItem] | None = None, force: bool = False, settings: ExtractSettings = DEFAULT_SETTINGS,
              stale: bool = False, follow_symlinks: bool = False) -> FlowSummary:
    """What the `xxgk-run` flow does, in this process without Prefect (recorded in the
    warehouse's `runs` view only)."""
    with recorded(warehouse, "run") as run:
        default_sandbox().prestart()
        work = list(items or [])
        if paths:
            run.skipped = None
            found, run.skipped = discover_items(paths, follow_symlinks)
            work += found
        if stale:
            work += existing(stale_documents(Path(warehouse)), warehouse)
        load = load_items(work, warehouse, batch_size, force, 1, in_process(warehouse, settings), run)
        load.skipped = run.skipped
    return FlowSummary(load, run_id=run.run_id)
