"""Orchestration overhead and Dask scale-out of the `xxgk-run` flow.

    uv run python bench/scaleout.py [--pdfs 200] [--mixed 1000] [--dir /tmp/xxgk-scale]

1. Overhead: the same backfill (extract → check → load of `--mixed` generated documents of
   every format) through the Prefect flow vs the plain functions in one process.
2. Scale-out: `--pdfs` generated PDFs through the flow with 1 worker (Prefect's default
   runner) and with 2 Dask worker processes, (a) on a cluster that is already running
   (`--dask-address`) and (b) starting its own LocalCluster (`--workers 2`).

One Prefect API server is started first and shared by every process (as `xxgk` does for
Dask runs), so its start-up is not in the figures; every timed run starts from an empty
warehouse and re-extracts everything."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def corpus(path: Path, n: int, formats: tuple[str, ...], seed: int) -> Path:
    if path.exists() and len(list(path.glob("*.truth.json"))) == n:
        return path
    shutil.rmtree(path, ignore_errors=True)
    from flows.generator import load_generator

    load_generator().generate(path, n, seed=seed, formats=formats, jobs=2)
    return path


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdfs", type=int, default=200)
    ap.add_argument("--mixed", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/xxgk-scale"))
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    base = args.dir
    pdfs = corpus(base / "pdfs", args.pdfs, ("pdf",), 5)
    mixed = corpus(base / "mixed", args.mixed, ("html", "docx", "pdf", "text"), 6)

    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    os.environ["PREFECT_API_URL"] = server.api_url
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    from flows.discover import discover_files
    from flows.items import WorkItem
    from flows.run import extract_items, run_flow
    from flows.runners import cli_settings, task_runner
    from load import load_results

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"prefect {version('prefect')}, prefect-dask {version('prefect-dask')}, distributed {version('distributed')}")

    def plain(src: Path, wh: Path) -> None:
        items = [WorkItem.of_file(p) for p in discover_files([src])]
        results, _ = extract_items(items, {}, str(wh))
        load_results(wh, results)

    def flow(src: Path, wh: Path, runner=None, parallelism: int = 1) -> None:
        fn = run_flow.with_options(task_runner=runner) if runner is not None else run_flow
        with cli_settings():  # as `xxgk run` calls it
            summary = fn(paths=[str(src)], warehouse=str(wh), force=True, parallelism=parallelism)
        assert summary.load.failed == 0, summary

    def best(fn, *a, **k) -> float:
        times = []
        for i in range(args.repeat):
            wh = base / f"wh-{time.monotonic_ns()}"
            t, _ = timed(fn, *a, wh, **k)
            times.append(t)
            shutil.rmtree(wh, ignore_errors=True)
        return min(times)

    flow(pdfs, base / "warm")  # warm-up: imports, first flow run registration
    shutil.rmtree(base / "warm", ignore_errors=True)

    t_plain = best(plain, mixed)
    t_flow = best(flow, mixed)
    print(f"\noverhead, {args.mixed} mixed documents: plain functions {t_plain:.2f} s, flow {t_flow:.2f} s "
          f"→ {100 * (t_flow / t_plain - 1):+.1f}%")

    t1 = best(flow, pdfs)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        t2 = best(flow, pdfs, runner=DaskTaskRunner(address=cluster.scheduler_address), parallelism=2)
    def own_cluster(src: Path, wh: Path) -> None:  # what `--workers 2` does: a runner (and cluster) per run
        flow(src, wh, runner=task_runner(workers=2), parallelism=2)

    t2own = best(own_cluster, pdfs)
    print(f"\nscale-out, {args.pdfs} PDFs:")
    print(f"  1 worker (default runner)              {t1:6.2f} s")
    print(f"  2 Dask workers, running cluster         {t2:6.2f} s  → {t1 / t2:.2f}x")
    print(f"  2 Dask workers, cluster started per run {t2own:6.2f} s  → {t1 / t2own:.2f}x")
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
