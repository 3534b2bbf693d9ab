"""Throughput on one core: documents/second and pages/second per format for the full path
(document → checked facts), and on the PDFs, side by side:

    pdfplumber extract_tables()         the usual baseline
    pypdfium2 floor                     PDFium's raw character boxes and path-object segments
                                        of the same pages, nothing else: what reading costs
    xxgk pdfminer / xxgk pdfium         the full path with either PDF reader

with the ratios of each to pdfplumber and to the floor, and how many documents the pdfium
engine handed to pdfminer (what PDFium cannot read exactly like pdfminer).

    uv run python bench/throughput.py [DIR_OR_FILES...] [--repeat N] [--group LABEL=PATH ...]

Each --group is timed and printed on its own (e.g. real PDFs, generated reportlab ones,
generated LibreOffice ones). Prints the machine and library versions with the figures.
The PDF paths are compared by each one's fastest of --repeat rounds per file in CPU time
(see `time_pdfs`); the per-format table times wall-clock totals."""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import platform
import sys
import time
from collections import defaultdict
from functools import partial
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extract import ExtractSettings  # noqa: E402
from extract import pdfium as pdfium_reader  # noqa: E402
from flows.discover import discover_files  # noqa: E402
from transform.pipeline import process_file  # noqa: E402

ENGINES = ("pdfminer", "pdfium")


def pdfplumber_tables(path: Path) -> int:
    import pdfplumber

    n = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            n += len(page.extract_tables())
    return len(pdf.pages)


def pdfium_floor(path: Path) -> int:
    """Every character's code and loose box and every path object's segments: the least a
    reader of characters and rulings must ask PDFium for."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    pdf = pdfium.PdfDocument(path.read_bytes())
    rect = c.FS_RECTF()
    x, y = ctypes.c_float(), ctypes.c_float()
    for i in range(len(pdf)):
        page = pdf[i]
        tp = page.get_textpage()
        for k in range(c.FPDFText_CountChars(tp.raw)):
            c.FPDFText_GetUnicode(tp.raw, k)
            c.FPDFText_GetLooseCharBox(tp.raw, k, rect)
        stack = [c.FPDFPage_GetObject(page.raw, j) for j in range(c.FPDFPage_CountObjects(page.raw))]
        while stack:
            obj = stack.pop()
            kind = c.FPDFPageObj_GetType(obj)
            if kind == c.FPDF_PAGEOBJ_FORM:
                stack += [c.FPDFFormObj_GetObject(obj, j) for j in range(c.FPDFFormObj_CountObjects(obj))]
            elif kind == c.FPDF_PAGEOBJ_PATH:
                for s in range(c.FPDFPath_CountSegments(obj)):
                    c.FPDFPathSegment_GetPoint(c.FPDFPath_GetPathSegment(obj, s), x, y)
        tp.close()
        page.close()
    n = len(pdf)
    pdf.close()
    return n


def _timed(fn, f: Path, repeat: int) -> tuple[float, object]:
    fn(f)  # warm caches (fonts, CMaps)
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn(f)
    return time.perf_counter() - t0, out


def time_pdfs(files: list[Path], repeat: int) -> dict:
    """Seconds and pages per path over `files` (PDFs), and how many pdfium handed over.
    Per file, the paths run in turn `repeat` rounds (after one warm-up each) and each counts
    its fastest round in CPU time (`process_time`): the round least disturbed by other
    processes, so a burst of load on a shared machine does not land on one path only."""
    paths = {"pdfplumber extract_tables": pdfplumber_tables, "pypdfium2 floor": pdfium_floor}
    for engine in ENGINES:
        paths[f"xxgk {engine}"] = partial(process_file, settings=ExtractSettings(pdf_engine=engine))
    rows = {name: [0, 0, 0.0] for name in paths}  # docs, pages, seconds
    handed = 0
    for f in files:
        pages = pdfplumber_tables(f)
        for fn in paths.values():
            fn(f)  # warm caches (fonts, CMaps)
        best = dict.fromkeys(paths, math.inf)
        for _ in range(repeat):
            for name, fn in paths.items():
                t0 = time.process_time()
                fn(f)
                best[name] = min(best[name], time.process_time() - t0)
        for name, dt in best.items():
            _add(rows[name], 1, pages, dt)
        handed += isinstance(pdfium_reader.read_pages(f, ExtractSettings(), f.read_bytes()), str)
    return {"rows": rows, "handed": handed, "docs": len(files)}


def _add(row: list, repeat: int, pages: int, dt: float) -> None:
    row[0] += repeat
    row[1] += pages * repeat
    row[2] += dt


def print_pdfs(label: str, got: dict) -> None:
    rows = got["rows"]
    base = rows["pdfplumber extract_tables"]
    floor = rows["pypdfium2 floor"]
    print(f"\n{label}: {got['docs']} PDFs; the pdfium engine handed {got['handed']} to pdfminer")
    print(f"{'path':28} {'docs':>5} {'pages':>6} {'docs/s':>8} {'pages/s':>8} {'s/page':>8} {'×plumber':>9} {'÷floor':>7}")
    for name, (d, p, s) in rows.items():
        speedup = (base[2] / base[1]) / (s / p)
        over_floor = (s / p) / (floor[2] / floor[1])
        print(f"{name:28} {d:>5} {p:>6} {d / s:>8.1f} {p / s:>8.1f} {s / p:>8.4f} {speedup:>8.2f}x {over_floor:>6.2f}x")


def _version_or_none(package: str) -> str:
    try:
        return version(package)
    except Exception:  # noqa: BLE001 - not installed
        return "none"


def print_formats(files: list[Path], repeat: int) -> None:
    """Per format; documents read by OCR (scans, images) are timed once each, after a first
    read that loads the models, and shown as `pdf OCR` / `image OCR`."""
    stats = defaultdict(lambda: [0, 0, 0.0])
    for f in files:
        first = process_file(f)
        ocr = any("ocr" in fact.flags for fact in first.facts)
        if ocr:  # seconds a page: once (the first read loaded the models)
            t0 = time.perf_counter()
            r, n = process_file(f), 1
            dt = time.perf_counter() - t0
        else:
            n = repeat
            dt, r = _timed(process_file, f, n)
        _add(stats[r.report.format + (" OCR" if ocr else "")], n, r.report.pages or 1, dt)
    print(f"{'path (default engine)':28} {'docs':>5} {'pages':>6} {'docs/s':>8} {'pages/s':>8} {'s/page':>8}")
    for fmt, (d, p, s) in sorted(stats.items()):
        print(f"{'xxgk ' + fmt:28} {d:>5} {p:>6} {d / s:>8.1f} {p / s:>8.1f} {s / p:>8.4f}")


def print_ocr(files: list[Path]) -> None:
    """The OCR path next to the text layer: per kind of document read by OCR (scanned PDF,
    HTML page with pictures, image file) the pages or pictures read, OCR's CPU seconds per
    page (as the reader counts them: `ExtractionResult.ocr_seconds`, one core) and the whole
    path's seconds per page; then the text-layer documents' seconds per page. Each document
    is read once after a first read that loads the models."""
    stats = defaultdict(lambda: [0, 0, 0.0, 0.0])  # docs, pages, OCR CPU seconds, path seconds
    for f in files:
        first = process_file(f)
        t0 = time.process_time()
        r = process_file(f) if first.ocr_pages else first
        dt = time.process_time() - t0
        if r.ocr_pages:
            kind = {"pdf": "scanned PDF", "html": "HTML pictures"}.get(r.report.format, r.report.format)
            row = stats[kind + " (OCR)"]
            row[1] += r.ocr_pages
            row[2] += r.ocr_seconds
        else:
            t0 = time.process_time()
            process_file(f)
            dt = time.process_time() - t0
            row = stats[r.report.format + " (text layer)"]
            row[1] += r.report.pages or 1
        row[0] += 1
        row[3] += dt
    print(f"\n{'OCR and text layer (CPU)':28} {'docs':>5} {'pages':>6} {'OCR s/page':>11} {'path s/page':>12}")
    for kind, (d, p, ocr_s, s) in sorted(stats.items()):
        ocr_col = f"{ocr_s / p:.3f}" if ocr_s else "-"
        print(f"{kind:28} {d:>5} {p:>6} {ocr_col:>11} {s / p:>12.4f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--group", action="append", default=[], metavar="LABEL=PATH",
                    help="time the PDFs under PATH as one group (repeatable)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    if not args.paths and not args.group:
        args.paths = [str(Path(__file__).resolve().parent.parent / "data" / "sample")]
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    except (AttributeError, OSError):
        pass
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pdfminer.six {version('pdfminer.six')}, pypdfium2 {version('pypdfium2')}, pdfplumber {version('pdfplumber')}, "
          f"lxml {version('lxml')}, rapidocr {_version_or_none('rapidocr')}, onnxruntime {_version_or_none('onnxruntime')}; "
          f"{args.repeat} repeats, one core")
    if args.paths:
        files = discover_files(args.paths)
        print_formats(files, args.repeat)
        print_ocr(files)
        pdfs = [f for f in files if f.read_bytes()[:5] == b"%PDF-"]
        if pdfs:
            print_pdfs(", ".join(args.paths), time_pdfs(pdfs, args.repeat))
    for spec in args.group:
        label, _, path = spec.partition("=")
        pdfs = [f for f in discover_files([path]) if f.read_bytes()[:5] == b"%PDF-"]
        print_pdfs(label, time_pdfs(pdfs, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
