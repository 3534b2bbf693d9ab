"""Accuracy harness: every document with a `<name>.truth.json` beside it is extracted
and compared cell by cell with its truth.

    uv run python bench/accuracy.py data/sample tests/fixtures/real [--verbose] [--pdf-engine pdfium|pdfminer] [--jobs N]
    uv run xxgk sample /tmp/scan --scan --formats pdf,html --count 120 && nice uv run python bench/accuracy.py /tmp/scan

Prints per format: documents, cells, cell accuracy, documents fully correct, and
silent errors (wrong cells in documents whose status is `ok`: the worst kind), and
documents whose metadata (template, year, agency, date, region code, level, status)
all equal the truth. Documents read by OCR (scans, pictures in pages) also give the CPU
seconds per page or picture (each document is read on one core; `--jobs` only runs several
at once)."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extract import ExtractSettings  # noqa: E402
from extract.models import PDF_ENGINES  # noqa: E402
from transform.pipeline import process_file  # noqa: E402
from transform.serialize import result_to_json  # noqa: E402

META = ("template", "year", "agency", "published", "region_code", "level", "body_type", "status")
"""Metadata compared when the truth file has it (`status`: ok, or partial for documents
that deliberately break an identity)."""


def truth_files(dirs: list[Path]) -> list[tuple[Path, Path]]:
    pairs = []
    for d in dirs:
        for truth in sorted(Path(d).rglob("*.truth.json")):
            stem = truth.name[: -len(".truth.json")]
            docs = [p for p in truth.parent.glob(stem + ".*") if not p.name.endswith(".truth.json")]
            pairs += [(doc, truth) for doc in sorted(docs)]
    return pairs


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-6)


def ocr_pages(doc: Path, out: dict, style: dict) -> int:
    """Pages or pictures the document was read from by OCR (0: a text layer)."""
    if style.get("pictures"):
        return len(re.findall(rb"<img\b", doc.read_bytes()))
    if style.get("scan") or any("ocr" in f.get("flags", ()) for f in out["facts"]):
        return out.get("pages") or 1
    return 0


def compare(doc: Path, truth_path: Path, settings: ExtractSettings | None = None) -> dict:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    cpu = time.process_time()
    out = result_to_json(process_file(doc, settings))
    cpu = time.process_time() - cpu
    got = {(f["table"], f["item"], f["column"]): f["value"] for f in out["facts"]}
    wrong = []
    for f in truth["facts"]:
        key = (f["table"], f["item"], f["column"])
        if key not in got or not same(got[key], f["value"]):
            wrong.append((key, f["value"], got.get(key, "<missing>")))
    extra = [k for k in got if k not in {(f["table"], f["item"], f["column"]) for f in truth["facts"]}]
    meta_wrong = [k for k in META if k in truth and truth[k] != out.get(k)]
    return {"doc": doc, "status": out["status"], "reason": out.get("reason"), "cells": len(truth["facts"]),
            "wrong": wrong, "extra": extra, "meta_wrong": [(k, truth[k], out.get(k)) for k in meta_wrong],
            "format": (out.get("format") or doc.suffix.lstrip(".")) + (" ocr" if ocr_pages(doc, out, truth.get("style", {}))
                                                                     else ""),
            "cpu": cpu, "ocr_pages": ocr_pages(doc, out, truth.get("style", {}))}


def _compare(args: tuple) -> dict:
    return compare(*args)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--pdf-engine", choices=PDF_ENGINES, default=ExtractSettings().pdf_engine)
    ap.add_argument("--jobs", type=int, default=1, help="documents read at once (each on one core)")
    args = ap.parse_args(argv)
    settings = ExtractSettings(pdf_engine=args.pdf_engine)
    per = defaultdict(lambda: {"docs": 0, "cells": 0, "right": 0, "full": 0, "silent": 0, "meta": 0,
                               "cpu": 0.0, "pages": 0})
    todo = [(d, t, settings) for d, t in truth_files([d for d in args.dirs if d.exists()])]
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(args.jobs)
        results = pool.map(_compare, todo)  # in order, each as it is done
    else:
        pool, results = None, (compare(*a) for a in todo)
    for r in results:
        s = per[r["format"]]
        s["docs"] += 1
        s["cells"] += r["cells"]
        s["right"] += r["cells"] - len(r["wrong"])
        s["full"] += not r["wrong"] and not r["extra"]
        s["meta"] += not r["meta_wrong"]
        s["cpu"] += r["cpu"]
        s["pages"] += r["ocr_pages"]
        if r["status"] == "ok":
            s["silent"] += len(r["wrong"])
        if args.verbose or r["wrong"] or r["meta_wrong"]:
            print(f"{r['doc']}: status={r['status']} wrong={len(r['wrong'])} extra={len(r['extra'])} "
                  f"meta={r['meta_wrong']} reason={r['reason']}")
            for w in r["wrong"][:10]:
                print("   ", w)
            sys.stdout.flush()
    if pool is not None:
        pool.shutdown()
    print(f"{'format':9} {'docs':>5} {'cells':>7} {'accuracy':>9} {'fully':>6} {'silent':>7} {'meta ok':>8} "
          f"{'OCR pages':>9} {'s/page':>7}")
    tot = {"docs": 0, "cells": 0, "right": 0, "full": 0, "silent": 0, "meta": 0, "cpu": 0.0, "pages": 0}
    for fmt, s in [*sorted(per.items()), ("all", tot)]:
        if fmt != "all":
            for k in tot:
                tot[k] += s[k]
        acc = s["right"] / s["cells"] if s["cells"] else 1.0
        speed = f"{s['cpu'] / s['pages']:.2f}" if s["pages"] else "-"
        print(f"{fmt:9} {s['docs']:>5} {s['cells']:>7} {acc:>9.4%} {s['full']:>6} {s['silent']:>7} {s['meta']:>8} "
              f"{s['pages']:>9} {speed:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
