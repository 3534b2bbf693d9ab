"""Prefect 3 flow `xxgk-run`: ingest files or directories → extract → transform → check
→ load, in batches of documents per task (a task run costs ~30 ms of orchestration, as
much as parsing an HTML report, so one task per document would double the work).

Parameters: paths, warehouse (default ./warehouse), batch_size. No schedule of its own
(`nightly` schedules it). Runs on Prefect's ephemeral API when no server is configured.
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from load import load_results  # noqa: E402
from transform.pipeline import process_file  # noqa: E402
from transform.records import ExtractionResult  # noqa: E402

from .discover import discover_files  # noqa: E402

DEFAULT_BATCH = 25


@task(name="discover", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def discover_task(paths: list[str]) -> list[str]:
    return [str(p) for p in discover_files(paths)]


@task(name="extract-batch", cache_policy=NO_CACHE, task_run_name="extract-{first}")
def extract_batch(paths: list[str], first: str = "") -> list[ExtractionResult]:
    # process_file never raises for a bad document: failures come back as records
    return [process_file(p) for p in paths]


@task(name="load", retries=3, retry_delay_seconds=[1, 3, 10], cache_policy=NO_CACHE)
def load_task(results: list[ExtractionResult], warehouse: str) -> int:
    return load_results(Path(warehouse), results)


def summarize(results: list[ExtractionResult], facts_loaded: int) -> dict:
    counts = Counter(r.status for r in results)
    return {
        "documents": len(results),
        **{s: counts.get(s, 0) for s in ("ok", "partial", "failed", "unsupported")},
        "facts_loaded": facts_loaded,
        "problems": [{"source": r.report.source, "status": r.status, "reason": r.report.reason}
                     for r in results if r.status != "ok"],
    }


@flow(name="xxgk-run", log_prints=False)
def run_flow(paths: list[str], warehouse: str = "warehouse", batch_size: int = DEFAULT_BATCH) -> dict:
    logger = get_run_logger()
    files = discover_task(paths)
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    futures = [extract_batch.submit(b, first=Path(b[0]).name) for b in batches]
    results = [r for f in futures for r in f.result()]
    n = load_task(results, warehouse) if results else 0
    summary = summarize(results, n)
    logger.info("run: %s", {k: v for k, v in summary.items() if k != "problems"})
    return summary
