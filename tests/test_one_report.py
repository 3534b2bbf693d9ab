"""Issue 12 end to end: `xxgk nightly` against govsite's second section (a city's column with
a report page + the same report as a PDF, a corrected re-upload, a 2018 report, a roundup
page of two departments, a corrupt attachment, its own navigation link and a dead link),
over real HTTP on localhost; then a second nightly, `quarantine --retry` and
`backfill --reparse` on the same warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govsite import SECOND_TOML, Site

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "/xxgk/files/2020.pdf"


def _cli(args, env):
    r = subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _q(wh: Path, sql: str) -> list[dict]:
    from load import connect_readonly

    con = connect_readonly(wh)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [json.loads(json.dumps(dict(zip(cols, row)), default=str)) for row in cur.fetchall()]
    finally:
        con.close()


def _documents(wh: Path, base: str) -> dict[str, dict]:
    rows = _q(wh, "select source, status, reason, doc_sha256, origin, raw_path, link_text, link_year, batch_id "
                  "from documents")
    return {r["source"].replace(base, ""): r for r in rows}


@pytest.fixture(scope="module")
def city(prefect_env, tmp_path_factory):
    """Two nightlies, then `quarantine --retry`, then `backfill --reparse`: what each saw."""
    tmp = tmp_path_factory.mktemp("one-report")
    site = Site().start()
    try:
        reg = tmp / "sources.toml"
        reg.write_text(SECOND_TOML.format(base=site.base), encoding="utf-8")
        wh = tmp / "wh"
        env = prefect_env
        out = {"site": site, "wh": wh, "base": site.base}
        out["nightly1_out"] = _cli(["nightly", "-s", str(reg), "-w", str(wh)], env)
        out["requests1"] = list(site.requests)
        out["docs1"] = _documents(wh, site.base)
        site.requests.clear()
        _cli(["nightly", "-s", str(reg), "-w", str(wh)], env)
        out["requests2"] = list(site.requests)
        out["docs2"] = _documents(wh, site.base)
        out["runs2"] = _q(wh, "select flow, documents, unchanged, fetched_new, fetched_changed from runs")
        out["quarantine2"] = _quarantine(wh, env)
        # a warehouse named by a relative path (as the run did): retried rows must
        # still land under their URL, not under the raw-store path the bytes are read from
        _cli(["quarantine", "-w", os.path.relpath(wh, ROOT), "--retry"], env)
        out["docs3"] = _documents(wh, site.base)
        out["quarantine3"] = _quarantine(wh, env)
        site.requests.clear()
        _cli(["backfill", "--reparse", "-w", str(wh)], env)
        out["requests4"] = list(site.requests)
        out["docs4"] = _documents(wh, site.base)
        yield out
    finally:
        site.stop()


def _quarantine(wh: Path, env) -> list[str]:
    return sorted(json.loads(line)["source"] for line in _cli(["quarantine", "-w", str(wh), "-f", "json"], env)
                  .splitlines() if line)


def _paths(requests) -> set[str]:
    return {p for _, p, _ in requests}


@pytest.mark.slow
def test_the_broken_attachment_is_recorded_under_its_url_with_its_link(city):
    doc = city["docs1"][BROKEN]
    assert doc["status"] == "failed" and "PDF" in doc["reason"]
    assert doc["origin"] == "testsite2" and doc["raw_path"].startswith("raw/")
    assert doc["link_text"] == "淮安市人民政府2020年政府信息公开工作年度报告" and doc["link_year"] == 2020
    assert all(src.startswith("/xxgk/") for src in city["docs1"])  # every source a URL of the site, no raw path


@pytest.mark.slow
def test_every_crawled_document_keeps_its_link_text_and_year(city):
    docs = city["docs1"]
    assert set(docs) == {"/xxgk/nb/2023.html", "/xxgk/nb/2023gz.html", "/xxgk/nb/2022.html",
                         "/xxgk/files/2022.pdf", "/xxgk/nb/hb2021.html", BROKEN, "/xxgk/nb/2018.html"}
    years = {src: d["link_year"] for src, d in docs.items()}
    assert years == {"/xxgk/nb/2023.html": 2023, "/xxgk/nb/2023gz.html": 2023, "/xxgk/nb/2022.html": 2022,
                     "/xxgk/files/2022.pdf": 2022, "/xxgk/nb/hb2021.html": 2021, BROKEN: 2020,
                     "/xxgk/nb/2018.html": 2018}
    assert docs["/xxgk/nb/hb2021.html"]["link_text"] == "2021年度市直部门政府信息公开工作年度报告汇编"
    assert docs["/xxgk/files/2022.pdf"]["link_text"] == docs["/xxgk/nb/2022.html"]["link_text"]  # the page's link


@pytest.mark.slow
def test_the_navigation_link_is_never_fetched_and_the_dead_link_only_once(city):
    assert "/xxgk/nb/" not in _paths(city["requests1"]) | _paths(city["requests2"])
    assert ("GET", "/xxgk/nb/2019.html", 404) in city["requests1"]
    assert "/xxgk/nb/2019.html" not in _paths(city["requests2"])  # remembered as dead: not asked again
    assert "HTTP 404" in city["nightly1_out"]


@pytest.mark.slow
def test_a_second_nightly_fetches_only_304s_and_re_extracts_nothing(city):
    statuses = {s for _, p, s in city["requests2"] if p != "/robots.txt"}
    assert statuses == {304}  # the list page too: conditional, and its links still followed
    assert ("GET", "/xxgk/nb/index.html", 304) in city["requests2"]
    last = city["runs2"][-1]
    assert last["flow"] == "nightly" and last["fetched_new"] == 0 and last["fetched_changed"] == 0
    assert last["documents"] == 7 and last["documents"] - last["unchanged"] == 0  # the broken one included
    assert city["docs2"] == city["docs1"]  # not one row rewritten


@pytest.mark.slow
def test_quarantine_retry_replaces_the_rows_of_the_failed_document_instead_of_adding_one(city):
    before, after = city["docs2"], city["docs3"]
    assert set(after) == set(before)  # the same documents: none added
    quarantined = {q.replace(city["base"], "") for q in city["quarantine2"]}
    assert BROKEN in quarantined and city["quarantine3"] == city["quarantine2"]
    for src in quarantined:
        retried = after[src]
        assert retried["batch_id"] > before[src]["batch_id"]  # re-extracted: a new row replaced the old one
        for key in ("status", "doc_sha256", "origin", "raw_path", "link_text", "link_year"):
            assert retried[key] == before[src][key], (src, key)
    assert {s: d for s, d in after.items() if s not in quarantined} == \
        {s: d for s, d in before.items() if s not in quarantined}


@pytest.mark.slow
def test_backfill_reparse_keeps_link_text_and_year_and_fetches_nothing(city):
    assert city["requests4"] == []
    before, after = city["docs3"], city["docs4"]
    assert set(after) == set(before)
    for src, d in after.items():
        assert d["batch_id"] > before[src]["batch_id"], src  # every one re-extracted
        assert (d["link_text"], d["link_year"], d["origin"]) == (before[src]["link_text"], before[src]["link_year"],
                                                                 before[src]["origin"]), src


def test_the_documents_view_reads_parquet_files_written_before_link_text_and_year(tmp_path):
    """A warehouse whose documents files predate the two columns: the view has them, null."""
    from load import connect_readonly
    from load.duckdb import refresh_views
    from load.layout import part_path
    from transform.records import SCHEMAS

    old = pa.schema([f for f in SCHEMAS["documents"] if f.name not in ("link_text", "link_year")])
    row = {"doc_sha256": "ab" * 32, "source": "http://a.gov.cn/nb/2023.html", "format": "html", "size": 10,
           "status": "failed", "reason": "empty file", "parser_version": "0.1.0",
           "ingested_at": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py(), "fetched_at": None, "origin": "a",
           "raw_path": None, "batch_id": "20200101T000000000000-00000000"}
    path = part_path(tmp_path, "documents", None, row["batch_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=old), path)
    refresh_views(tmp_path)
    con = connect_readonly(tmp_path)
    try:
        got = con.execute("select source, link_text, link_year from documents").fetchall()
        stale = con.execute("select count(*) from stale_documents").fetchone()[0]
    finally:
        con.close()
    assert got == [("http://a.gov.cn/nb/2023.html", None, None)] and stale == 1


def test_a_failed_crawled_document_is_known_by_its_url_until_its_bytes_change(tmp_path):
    """What makes a nightly skip a failed document: `known_documents` maps its URL (not a
    raw-store path) to its bytes, so only new bytes (or a new parser) read it again."""
    import datetime as dt

    from flows.items import WorkItem
    from flows.run import extract_items
    from load import load_results
    from load.reads import known_documents

    wh = tmp_path / "wh"
    raw = wh / "raw" / "ab" / "broken.pdf"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"%PDF-1.4 truncated")
    url = "http://a.gov.cn/files/2020.pdf"
    item = WorkItem(str(raw), url, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "a", "raw/ab/broken.pdf",
                    "某区2020年政府信息公开工作年度报告", 2020)
    results, unchanged = extract_items([item], {}, str(wh), isolate=False)
    (res,) = results
    assert res.status == "failed" and unchanged == 0
    doc = res.document
    assert (doc.source, doc.raw_path, doc.link_text, doc.link_year) == (url, "raw/ab/broken.pdf", item.link_text,
                                                                        2020)
    load_results(wh, results)
    known = known_documents(wh)
    assert known == {url: doc.doc_sha256}
    assert extract_items([item], known, str(wh), isolate=False) == ([], 1)  # the same bytes: skipped
    raw.write_bytes(b"%PDF-1.4 truncated differently")
    again, unchanged = extract_items([item], known, str(wh), isolate=False)
    assert unchanged == 0 and [r.document.source for r in again] == [url]  # new bytes: read again


# ------------------------------------------------------------------ helper "bodies"' part of issue 12


@pytest.mark.slow
def test_one_canonical_report_per_body_and_year_with_duplicates_listed(city):
    wh, base = city["wh"], city["base"]
    assert _q(wh, "select body_id, year, count(*) from report_metrics group by all having count(*) > 1") == []
    assert _q(wh, "select body_id, year, count(*) from reports where status in ('ok', 'partial') and "
                  "report_id not in (select report_id from duplicates) group by all having count(*) > 1") == []
    reports = {r["source"].replace(base, ""): r for r in
               _q(wh, "select report_id, source, status, reason, year, body_id from reports")}
    dups = {d["report_id"]: d["duplicate_of"] for d in _q(wh, "select report_id, duplicate_of from duplicates")}
    # the corrected re-upload (published later) is canonical; the first upload its duplicate
    assert dups[reports["/xxgk/nb/2023.html"]["report_id"]] == reports["/xxgk/nb/2023gz.html"]["report_id"]
    assert reports["/xxgk/nb/2023gz.html"]["report_id"] not in dups
    # the page and its PDF: exactly one of them canonical, the other its duplicate
    page, pdf = reports["/xxgk/nb/2022.html"]["report_id"], reports["/xxgk/files/2022.pdf"]["report_id"]
    assert (dups.get(page), dups.get(pdf)) in ((pdf, None), (None, page))
    # whether a duplicate's values agree with its canonical report: the PDF copy does, the
    # first upload of the corrected report does not (one value changed)
    agree = {d["report_id"]: d["values_agree"] for d in _q(wh, "select report_id, values_agree from duplicates")}
    assert agree[reports["/xxgk/nb/2023.html"]["report_id"]] is False
    assert agree[page if page in dups else pdf] is True


@pytest.mark.slow
def test_the_2018_report_is_unsupported_without_facts_and_never_a_cross_year_predecessor(city):
    wh, base = city["wh"], city["base"]
    reports = {r["source"].replace(base, "") for r in _q(wh, "select source from reports")}
    # unsupported: a documents row only
    (legacy,) = _q(wh, f"select status, reason, doc_sha256 from documents where source = '{base}/xxgk/nb/2018.html'")
    assert legacy["status"] == "unsupported" and legacy["reason"].startswith("pre-2019 report")
    rid = legacy["doc_sha256"][:16]
    assert "/xxgk/nb/2018.html" not in reports
    assert _q(wh, f"select count(*) as n from facts where report_id = '{rid}'") == [{"n": 0}]
    assert _q(wh, f"select count(*) as n from cross_year_checks where prev_report_id = '{rid}' "
                  f"or report_id = '{rid}'") == [{"n": 0}]


@pytest.mark.slow
def test_the_roundup_of_two_departments_is_split_or_partial_never_one_report_kept_silently(city):
    wh, base = city["wh"], city["base"]
    roundup = _q(wh, f"select agency, status, reason, year from reports where source = '{base}/xxgk/nb/hb2021.html'")
    split = sorted(r["agency"] for r in roundup) == ["淮安市教育局", "淮安市财政局"]
    assert split or (len(roundup) == 1 and roundup[0]["status"] == "partial"
                     and "several reports in one document" in roundup[0]["reason"])
    assert all(r["year"] == 2021 for r in roundup)
