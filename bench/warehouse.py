"""Warehouse benchmark: about 10 million facts (50,000 reports of 7,000 bodies over 7
years), loaded through the project's own load path, then the typical analyst queries in
DuckDB (through the warehouse views) and the same queries in pandas on the same Parquet.

    uv run python bench/warehouse.py [--reports 50000] [--dir /tmp/xxgk-bench] [--repeat 3]

Reports come from the sample generator (data/generate.py) without rendering: its true
values become Facts, the identities are checked by transform/checks.py, and load_results()
writes them in loads of 5,000 reports. Prints load time, files and bytes on disk, and per
query the median time of DuckDB and pandas, before and after `xxgk compact`."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import shutil
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import PARSER_VERSION  # noqa: E402
from load import compact_warehouse, connect_readonly, load_results  # noqa: E402
from transform.bodies import resolve_body  # noqa: E402
from transform.checks import facts_to_checks  # noqa: E402
from transform.records import CheckResult, Document, ExtractionResult, Fact, Report, report_id_for  # noqa: E402
from transform.templates import load_templates  # noqa: E402

YEARS = range(2019, 2026)


def _generator():
    from flows.generator import load_generator

    return load_generator()


def make_results(n_reports: int, seed: int = 1):
    """Yield ExtractionResults: n_reports / 7 bodies, one report per body and year."""
    gen = _generator()
    bodies = gen.Bodies()
    templates = load_templates()
    import random

    rng = random.Random(seed)
    n_bodies = max(1, n_reports // len(YEARS))
    chosen, seen = [], set()
    while len(chosen) < n_bodies:
        b = bodies.pick(rng)
        if b.name not in seen:
            seen.add(b.name)
            chosen.append(b)
    # 400 distinct value sets per template, reused with other bodies (shape, not identity, matters)
    pool = {}
    for tmpl in ("2019", "2021"):
        specs, i = [], 0
        while len(specs) < 400:
            s = gen.build(seed, i, "text", 0.03, bodies)
            i += 1
            if s.template == tmpl:
                specs.append(s)
        pool[tmpl] = specs
    now = dt.datetime.now(dt.timezone.utc)
    k = 0
    for body in chosen:
        ref = resolve_body(body.name)
        region = ref.region
        for year in YEARS:
            if k >= n_reports:
                return
            tmpl = "2019" if year <= 2020 else "2021"
            spec = pool[tmpl][k % 400]
            sha = hashlib.sha256(f"{body.name}|{year}".encode()).hexdigest()
            rid = report_id_for(sha)
            facts = [Fact(rid, f["table"], f["item"], f["column"], f["value"], "万元" if f["column"] == "amount" else None,
                          None if f["value"] is None else str(f["value"]), f["value"] is None, False,
                          ["blank"] if f["value"] is None else [], 3, 2, 10, 4, PARSER_VERSION)
                     for f in spec.facts]
            checks: list[CheckResult] = facts_to_checks(facts, templates, rid)
            failed = sum(1 for c in checks if c.passed is False)
            published = dt.date(year + 1, 1, 10) + dt.timedelta(days=k % 70)
            status = "partial" if failed else "ok"
            rep = Report(rid, sha, f"/corpus/{sha}.pdf", "pdf", status, None, tmpl, year, body.name, published,
                         region.name, region.code, region.level, region.body_type, 6, len(facts), failed,
                         PARSER_VERSION, now, body_id=ref.body_id,
                         cells_read=sum(1 for f in facts if f.value is not None or f.blank))
            doc = Document(sha, rep.source, "pdf", 250_000, status, None, PARSER_VERSION, now)
            yield ExtractionResult(doc, rep, facts, checks)
            k += 1


QUERIES = {
    "national aggregate by province, one year": """
        SELECT left(r.region_code, 2) AS province, sum(f.value) AS applications
        FROM facts f JOIN reports r USING (report_id)
        WHERE f.year = 2023 AND f."table" = 't3' AND f.item = 'new_received' AND f."column" = 'total'
        GROUP BY 1 ORDER BY 2 DESC""",
    "one body's time series": """
        SELECT r.year, f.item, f.value FROM facts f JOIN reports r USING (report_id)
        WHERE r.agency = '{agency}' AND f."table" = 't3' AND f."column" = 'total' ORDER BY 1, 2""",
    "identity 1 recomputed over all facts": """
        SELECT count(*) FROM (
          SELECT report_id, "column",
                 sum(CASE WHEN item IN ('new_received', 'carried_over') THEN coalesce(value, 0)
                          ELSE -coalesce(value, 0) END) AS d
          FROM facts WHERE "table" = 't3' AND item IN ('new_received', 'carried_over', 'total_processed', 'carried_forward')
          GROUP BY 1, 2) WHERE d <> 0""",
    "failed identities by province and rule": """
        SELECT left(r.region_code, 2) AS province, c.rule, count(*) AS failed
        FROM checks c JOIN reports r USING (report_id) WHERE c.passed = false GROUP BY 1, 2 ORDER BY 1, 2""",
    "cross-year join (carry-over mismatches)": """
        SELECT count(*) AS pairs, count(*) FILTER (WHERE NOT passed) AS mismatches FROM cross_year_checks""",
}


def pandas_queries(root: Path, agency: str):
    import pandas as pd

    def read(path, **kw):  # data_year is stored in the files too: no hive inference needed
        return pd.read_parquet(path, partitioning=None, **kw)

    facts_dir, reports_dir, checks_dir = root / "facts", root / "reports", root / "checks"

    def q1():
        f = read(facts_dir, columns=["report_id", "table", "item", "column", "value"],
                            filters=[("data_year", "=", 2023), ("table", "=", "t3"), ("item", "=", "new_received"),
                                     ("column", "=", "total")])
        r = read(reports_dir, columns=["report_id", "region_code"])
        m = f.merge(r, on="report_id")
        return m.groupby(m.region_code.str[:2])["value"].sum().sort_values(ascending=False)

    def q2():
        r = read(reports_dir, columns=["report_id", "year", "agency"])
        r = r[r.agency == agency]
        f = read(facts_dir, columns=["report_id", "table", "item", "column", "value"],
                            filters=[("table", "=", "t3"), ("column", "=", "total")])
        return f.merge(r, on="report_id").sort_values(["year", "item"])[["year", "item", "value"]]

    def q3():
        f = read(facts_dir, columns=["report_id", "table", "item", "column", "value"],
                            filters=[("table", "=", "t3"),
                                     ("item", "in", ["new_received", "carried_over", "total_processed", "carried_forward"])])
        sign = f["item"].isin(["new_received", "carried_over"]).map({True: 1, False: -1})
        f = f.assign(v=f["value"].fillna(0) * sign)
        d = f.groupby(["report_id", "column"])["v"].sum()
        return int((d != 0).sum())

    def q4():
        c = read(checks_dir, columns=["report_id", "rule", "passed"], filters=[("passed", "=", False)])
        r = read(reports_dir, columns=["report_id", "region_code"])
        m = c.merge(r, on="report_id")
        return m.groupby([m.region_code.str[:2], "rule"]).size()

    def q5():
        r = read(reports_dir, columns=["report_id", "agency", "region_code", "year"])
        r["body"] = r.region_code.fillna("") + "|" + r.agency
        f = read(facts_dir, columns=["report_id", "table", "item", "column", "value"],
                            filters=[("table", "=", "t3"), ("item", "in", ["carried_over", "carried_forward"])])
        f = f.merge(r[["report_id", "body", "year"]], on="report_id")
        cur = f[f.item == "carried_over"]
        prev = f[f.item == "carried_forward"].assign(year=lambda x: x.year + 1)
        m = cur.merge(prev, on=["body", "year", "column"], suffixes=("", "_prev"))
        return len(m), int((m.value.fillna(0) != m.value_prev.fillna(0)).sum())

    return dict(zip(QUERIES, (q1, q2, q3, q4, q5)))


def run_queries(root: Path, repeat: int, label: str) -> None:
    con = connect_readonly(root)
    agency = con.execute("SELECT agency FROM reports ORDER BY report_id LIMIT 1").fetchall()[0][0]
    n = con.execute("SELECT count(*) FROM facts").fetchall()[0][0]
    pq = pandas_queries(root, agency)
    print(f"\n{label}: {n:,} facts visible")
    print(f"{'query':45} {'duckdb s':>9} {'pandas s':>9} {'speed-up':>9}")
    for name, sql in QUERIES.items():
        sql = sql.format(agency=agency)
        times, ptimes = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
        for _ in range(repeat):
            t = time.perf_counter()
            pq[name]()
            ptimes.append(time.perf_counter() - t)
        d, p = statistics.median(times), statistics.median(ptimes)
        print(f"{name:45} {d:>9.3f} {p:>9.3f} {p / d:>8.1f}x")
    con.close()


def du(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*.parquet")]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=50_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/xxgk-bench"))
    ap.add_argument("--load-size", type=int, default=5_000, help="reports per load (one batch of files each)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="reuse an existing warehouse in --dir")
    args = ap.parse_args(argv)
    root = args.dir
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"duckdb {version('duckdb')}, pyarrow {version('pyarrow')}, pandas {version('pandas')}")
    if not (args.keep and (root / "xxgk.duckdb").exists()):
        shutil.rmtree(root, ignore_errors=True)
        t0 = time.perf_counter()
        chunk, n_facts, n_rep = [], 0, 0
        make = 0.0
        t_make = time.perf_counter()
        for res in make_results(args.reports):
            chunk.append(res)
            if len(chunk) == args.load_size:
                make += time.perf_counter() - t_make
                n_facts += load_results(root, chunk)
                n_rep += len(chunk)
                chunk = []
                t_make = time.perf_counter()
        make += time.perf_counter() - t_make
        if chunk:
            n_facts += load_results(root, chunk)
            n_rep += len(chunk)
        total = time.perf_counter() - t0
        files, size = du(root)
        print(f"loaded {n_rep:,} reports, {n_facts:,} facts in {total - make:.1f} s through load_results "
              f"(+{make:.1f} s making the records); {files} Parquet files, {size / 2**20:.0f} MiB on disk")
    run_queries(root, args.repeat, f"before compact ({du(root)[0]} files)")
    t = time.perf_counter()
    res = compact_warehouse(root)
    files, size = du(root)
    print(f"xxgk compact: {time.perf_counter() - t:.1f} s, files per table "
          + ", ".join(f"{k} {res.files_before[k]} → {res.files_after[k]}" for k in res.files_before)
          + f"; {size / 2**20:.0f} MiB on disk")
    run_queries(root, args.repeat, f"after compact ({du(root)[0]} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
