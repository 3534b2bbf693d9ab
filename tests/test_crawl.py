"""The crawler against a real local HTTP server (tests/site.py), then the Prefect flows
`nightly` and `backfill --reparse` end to end through the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from extract.crawl import Fetcher, RawStore, RegistryError, crawl_source, load_sources
from govsite import Site

ROOT = Path(__file__).resolve().parent.parent
REPORT_PATHS = {"/nb/2023.html", "/files/2022.pdf", "/files/2021.docx", "/nb/2020.html", "/nb/slow.html"}


@pytest.fixture
def site():
    s = Site().start()
    yield s
    s.stop()


def _fetcher(source):
    return Fetcher(allows=source.allows, rate=source.rate, max_bytes=source.max_bytes, timeout=source.timeout,
                   backoff=0.05)


def _source(site, tmp_path):
    reg = tmp_path / "sources.toml"
    reg.write_text(site.sources_toml(), encoding="utf-8")
    return load_sources(reg)[0], reg


def test_first_crawl_fetches_every_report_once_and_skips_what_it_must_with_reasons(site, tmp_path):
    source, _ = _source(site, tmp_path)
    store = RawStore(tmp_path / "raw")
    rep = crawl_source(source, store, fetcher=_fetcher(source))
    docs = {it.url.replace(site.base, ""): it for it in rep.documents()}
    assert set(docs) == REPORT_PATHS
    assert all(it.status == "new" and Path(it.path).exists() for it in docs.values())
    served = Counter(p for _, p, status in site.requests if status == 200)
    assert all(served[p] == 1 for p in REPORT_PATHS)  # each report fetched once
    assert site.requests.count(("GET", "/nb/2020.html", 500)) == 2  # retried after two 500s
    skipped = {it.url.replace(site.base, ""): it.reason for it in rep.items if it.status == "skipped"}
    assert "robots.txt" in skipped["/private/2018.html"]
    assert "allowed domains" in skipped[f"http://localhost:{site.port}/nb/2016.html"]
    assert "localhost" in skipped["/nb/moved.html"] and "allowed domains" in skipped["/nb/moved.html"]
    assert "max_bytes" in skipped["/files/huge.pdf"]
    requested = {p for _, p, _ in site.requests}
    assert "/private/2018.html" not in requested  # forbidden path never requested
    assert all(p.stat().st_size < 5_000_000 for p in (tmp_path / "raw").rglob("*.*"))  # nothing oversize stored
    # the 2022 and 2021 pages only link their files: not documents themselves
    pages = {it.url.replace(site.base, ""): it.document for it in rep.items if it.kind == "report"}
    assert pages["/nb/2022.html"] is False and pages["/nb/2021.html"] is False and pages["/nb/2023.html"] is True


def test_second_crawl_fetches_nothing_new_and_a_changed_report_is_refetched(site, tmp_path):
    source, _ = _source(site, tmp_path)
    store = RawStore(tmp_path / "raw")
    crawl_source(source, store, fetcher=_fetcher(source))
    site.requests.clear()
    again = crawl_source(source, store, fetcher=_fetcher(source))
    assert {it.status for it in again.items if it.kind != "list" and it.status != "skipped"
            and not it.url.endswith("/etc/passwd.pdf")} == {"unchanged"}  # (that one is a 404 each time)
    report_hits = [(p, s) for _, p, s in site.requests if p in REPORT_PATHS]
    assert report_hits and all(s == 304 for _, s in report_hits)  # one 304 per report, no body
    # the site corrects its 2023 report
    status, headers, body = site.routes["/nb/2023.html"]
    site.routes["/nb/2023.html"] = (status, headers, body.replace(b"</body>", "<p>更正</p></body>".encode()))
    third = crawl_source(source, store, fetcher=_fetcher(source))
    changed = [it for it in third.items if it.status == "changed"]
    assert [it.url.replace(site.base, "") for it in changed] == ["/nb/2023.html"]


def test_the_crawler_writes_only_inside_the_warehouse_and_fetches_only_allowed_hosts(site, tmp_path):
    source, _ = _source(site, tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    wh = tmp_path / "wh"
    rep = crawl_source(source, RawStore(wh / "raw"), fetcher=_fetcher(source))
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(p == wh or p.is_relative_to(wh) for p in written)
    stored = [p for p in (wh / "raw").rglob("*") if p.is_file() and p.parent.name != "http-cache"]
    assert stored and all(re.fullmatch(r"[0-9a-f]{64}\.(html|pdf|docx|txt)", p.name) for p in stored)
    requested = {p for _, p, _ in site.requests}
    assert "/files/elsewhere.pdf" not in requested  # attachment on another host: skipped, never requested
    items = {it.url.replace(site.base, ""): it for it in rep.items}
    assert "allowed domains" in items[f"http://localhost:{site.port}/files/elsewhere.pdf"].reason
    # a link climbing out of the site resolves inside it (/etc/passwd.pdf there): a 404, nothing stored
    assert items["/etc/passwd.pdf"].status == "failed" and items["/etc/passwd.pdf"].path is None


def test_dry_run_lists_reports_without_fetching_them(site, tmp_path):
    source, _ = _source(site, tmp_path)
    rep = crawl_source(source, RawStore(tmp_path / "raw"), dry_run=True, fetcher=_fetcher(source))
    planned = {it.url.replace(site.base, "") for it in rep.items if it.status == "planned"}
    assert {"/nb/2023.html", "/nb/2022.html", "/nb/2021.html", "/nb/2020.html"} <= planned
    assert not any(p in {q for _, q, _ in site.requests} for p in ("/nb/2023.html", "/files/2022.pdf"))


def test_registry_errors_name_the_file_the_source_and_the_key(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text('[[sources]]\nslug = "x"\nlist_url = "http://a.gov.cn/"\nallowed_domains = ["a.gov.cn"]\n'
                   'rate = -1\n', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"sources.toml: sources\[0\] \(x\): `rate`"):
        load_sources(bad)
    bad.write_text('[[sources]]\nslug = "x"\nlist_url = "http://b.gov.cn/"\nallowed_domains = ["a.gov.cn"]\n',
                   encoding="utf-8")
    with pytest.raises(RegistryError, match="not in allowed_domains"):
        load_sources(bad)


def _cli(args, tmp_path, env):
    r = subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _q(sql, wh, env, tmp_path):
    from load import connect_readonly

    con = connect_readonly(wh)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [json.loads(json.dumps(dict(zip(cols, row)), default=str)) for row in cur.fetchall()]
    finally:
        con.close()


@pytest.mark.slow
def test_nightly_then_changed_report_replaces_its_facts_then_backfill_reparse(site, tmp_path, prefect_env):
    _, reg = _source(site, tmp_path)
    wh = tmp_path / "wh"
    env = prefect_env
    out = _cli(["nightly", "-s", str(reg), "-w", str(wh)], tmp_path, env)
    assert "robots.txt" in out and "max_bytes" in out  # skips are printed with their reasons
    reports = _q("select source, year, status from reports order by year", wh, env, tmp_path)
    assert [(r["source"].replace(site.base, ""), r["year"]) for r in reports] == [
        ("/nb/slow.html", 2019), ("/nb/2020.html", 2020), ("/files/2021.docx", 2021), ("/files/2022.pdf", 2022),
        ("/nb/2023.html", 2023)]
    docs = _q("select source, fetched_at, origin, raw_path from documents", wh, env, tmp_path)
    assert all(d["fetched_at"] and d["origin"] == "testsite" and d["raw_path"].startswith("raw/") for d in docs)
    # the site corrects its 2023 report: re-fetched, re-extracted, its old rows replaced
    (old_id,) = [r["report_id"] for r in _q("select report_id from reports where year = 2023", wh, env, tmp_path)]
    status, headers, body = site.routes["/nb/2023.html"]
    site.routes["/nb/2023.html"] = (status, headers, body.replace(b"</body>", "<p>更正</p></body>".encode()))
    _cli(["nightly", "-s", str(reg), "-w", str(wh)], tmp_path, env)
    runs = _q("select flow, fetched_new, fetched_changed, documents, unchanged, facts_loaded from runs", wh, env,
              tmp_path)
    assert runs[-1]["fetched_changed"] == 1 and runs[-1]["fetched_new"] == 0
    # only the changed report is extracted again: the others are known (same source, bytes, parser)
    assert runs[-1]["documents"] - runs[-1]["unchanged"] == 1
    assert _q("select count(*) as n from reports", wh, env, tmp_path) == [{"n": 5}]  # replaced, not added
    (new_id,) = [r["report_id"] for r in _q("select report_id from reports where year = 2023", wh, env, tmp_path)]
    assert new_id != old_id
    assert _q(f"select count(*) as n from facts where report_id = '{old_id}'", wh, env, tmp_path) == [{"n": 0}]
    assert _q(f"select count(*) as n from facts where report_id = '{new_id}'", wh, env, tmp_path)[0]["n"] > 150
    # a parser upgrade: re-extract two years from the raw store, nothing fetched
    site.requests.clear()
    out = _cli(["backfill", "--years", "2019-2020", "--reparse", "-w", str(wh)], tmp_path, env)
    assert site.requests == []
    last = _q("select flow, documents, ok + partial as loaded from runs order by started_at desc limit 1", wh, env,
              tmp_path)
    assert last == [{"flow": "backfill", "documents": 2, "loaded": 2}]
