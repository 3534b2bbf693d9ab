"""Throughput on one core: documents/second and pages/second per format, for the full
path (document → checked facts), and on the same PDFs pdfplumber's `extract_tables()`
alone as the baseline. Documents read by OCR (scans, images) are timed once each and shown
as `pdf OCR` / `image OCR`.

    uv run python bench/throughput.py [DIR_OR_FILES...] [--repeat N]

Prints the machine and library versions with the figures."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.discover import discover_files  # noqa: E402
from transform.pipeline import process_file  # noqa: E402


def pdfplumber_tables(path: Path) -> int:
    import pdfplumber

    n = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            n += len(page.extract_tables())
    return len(pdf.pages)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=[str(Path(__file__).resolve().parent.parent / "data" / "sample")])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    except (AttributeError, OSError):
        pass
    files = discover_files(args.paths)
    stats = defaultdict(lambda: [0, 0, 0.0])  # docs, pages, seconds
    base = [0, 0, 0.0]
    for f in files:
        t0 = time.perf_counter()
        r = process_file(f)  # warm caches (fonts, cmaps; the OCR models)
        dt = time.perf_counter() - t0
        ocr = any("ocr" in fact.flags for fact in r.facts)
        repeat = 1 if ocr else args.repeat  # OCR takes seconds a page: timed once (after the first document)
        if not ocr:
            t0 = time.perf_counter()
            for _ in range(repeat):
                r = process_file(f)
            dt = time.perf_counter() - t0
        elif not stats[r.report.format + " OCR"][0]:
            t0 = time.perf_counter()
            r = process_file(f)  # the first OCR document paid for loading the models
            dt = time.perf_counter() - t0
        s = stats[r.report.format + (" OCR" if ocr else "")]
        s[0] += repeat
        s[1] += (r.report.pages or 1) * repeat
        s[2] += dt
        if r.report.format == "pdf" and not ocr:
            pdfplumber_tables(f)
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                pages = pdfplumber_tables(f)
            base[0] += args.repeat
            base[1] += pages * args.repeat
            base[2] += time.perf_counter() - t0
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pdfminer.six {version('pdfminer.six')}, pdfplumber {version('pdfplumber')}, lxml {version('lxml')}"
          + (f", rapidocr {version('rapidocr')}, onnxruntime {version('onnxruntime')}"
             if any(k.endswith(" OCR") for k in stats) else ""))
    print(f"{'path':28} {'docs':>5} {'pages':>6} {'docs/s':>8} {'pages/s':>8} {'s/page':>8}")
    for fmt, (d, p, s) in sorted(stats.items()):
        print(f"{'xxgk ' + fmt:28} {d:>5} {p:>6} {d / s:>8.1f} {p / s:>8.1f} {s / p:>8.4f}")
    if base[0]:
        d, p, s = base
        print(f"{'pdfplumber extract_tables':28} {d:>5} {p:>6} {d / s:>8.1f} {p / s:>8.1f} {s / p:>8.4f}")
        ours = stats["pdf"]
        if ours[2]:
            print(f"xxgk PDF path speed-up over pdfplumber extract_tables: {(ours[1] / ours[2]) / (p / s):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
