"""Issue 14: crawler limits that hold against a hostile server on a real local HTTP server:
a nested gzip bomb, a gzip-bomb robots.txt, a 1-byte/s drip, Crawl-delay, Retry-After, and
one source's failure never stopping the others (nightly through the CLI)."""

from __future__ import annotations

import gzip
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extract.crawl import Fetcher, RawStore, crawl_source, load_sources
from govsite import Site

ROOT = Path(__file__).resolve().parent.parent
BOMB = gzip.compress(gzip.compress(b"\0" * 300_000_000, 9), 9)
"""`Content-Encoding: gzip, gzip`: a few hundred bytes on the wire, 300 MB inflated."""


class Hostile:
    """A server whose routes are functions of the request handler (to drip, to change answers)."""

    def __init__(self, robots: bytes | None = None, robots_gzip: bool = False) -> None:
        self.hits: dict[str, list[float]] = {}
        self.routes = {}
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits.setdefault(self.path, []).append(time.monotonic())
                route = outer.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def send(body: bytes, status: int = 200, ctype: str = "text/html", **headers):
    def route(h):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.end_headers()
        h.wfile.write(body)
    return route


def drip(h):
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(100000):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(1.0)


@pytest.fixture
def hostile():
    s = Hostile()
    yield s
    s.stop()


def fetcher(**kw) -> Fetcher:
    return Fetcher(allows=lambda url: True, **{"rate": 100.0, "backoff": 0.05, "timeout": 2.0, **kw})


def test_a_nested_gzip_bomb_stops_at_the_size_cap_without_filling_memory(hostile):
    hostile.routes["/bomb.html"] = send(BOMB, Content_Encoding="gzip, gzip")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with fetcher(max_bytes=5_000_000) as f:
        res = f.get(hostile.base + "/bomb.html")
    assert res.status == "skipped" and "max_bytes=5000000" in res.reason and not res.content
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) < 100_000  # KB: under 100 MB more


def test_a_gzip_bomb_robots_txt_is_read_as_absent_and_a_gzip_robots_txt_is_obeyed(hostile):
    hostile.routes["/robots.txt"] = send(BOMB, ctype="text/plain", Content_Encoding="gzip, gzip")
    hostile.routes["/ok.html"] = send(b"<html>ok</html>")
    with fetcher() as f:
        assert f.get(hostile.base + "/ok.html").status == "ok"
    hostile.routes["/robots.txt"] = send(gzip.compress(b"User-agent: *\nDisallow: /private/\n"), ctype="text/plain",
                                         Content_Encoding="gzip")
    hostile.routes["/private/x.html"] = send(b"<html>secret</html>")
    with fetcher() as f:
        res = f.get(hostile.base + "/private/x.html")
    assert res.status == "skipped" and "robots.txt" in res.reason
    assert "/private/x.html" not in hostile.hits


def test_a_one_byte_per_second_drip_is_cut_off_at_the_response_deadline(hostile):
    hostile.routes["/drip.html"] = drip
    t0 = time.monotonic()
    with fetcher(deadline=2.5, timeout=2.0) as f:
        res = f.get(hostile.base + "/drip.html")
    took = time.monotonic() - t0
    assert res.status == "failed" and "deadline of 2.5 s" in res.reason
    assert took < 2.5 + 2.0 + 1.5 and len(hostile.hits["/drip.html"]) == 1  # not retried


def test_crawl_delay_spaces_requests_to_a_host_and_is_bounded(hostile):
    hostile.routes["/robots.txt"] = send(b"User-agent: *\nCrawl-delay: 1\n", ctype="text/plain")
    for p in ("/a.html", "/b.html", "/c.html"):
        hostile.routes[p] = send(b"<html>x</html>")
    with fetcher() as f:
        for p in ("/a.html", "/b.html", "/c.html"):
            assert f.get(hostile.base + p).status == "ok"
    t = [hostile.hits[p][0] for p in ("/a.html", "/b.html", "/c.html")]
    assert t[1] - t[0] >= 0.95 and t[2] - t[1] >= 0.95
    hostile.routes["/robots.txt"] = send(b"User-agent: *\nCrawl-delay: 86400\n", ctype="text/plain")
    t0 = time.monotonic()
    with fetcher(max_wait=0.5) as f:
        f.get(hostile.base + "/a.html")
        f.get(hostile.base + "/b.html")
    assert time.monotonic() - t0 < 3


def test_retry_after_is_obeyed_and_bounded(hostile):
    answers = [send(b"busy", status=429, Retry_After="1"), send(b"<html>ok</html>")]
    hostile.routes["/busy.html"] = lambda h: answers.pop(0)(h)
    with fetcher() as f:
        res = f.get(hostile.base + "/busy.html")
    hits = hostile.hits["/busy.html"]
    assert res.status == "ok" and res.attempts == 2 and hits[1] - hits[0] >= 0.95
    hostile.routes["/never.html"] = send(b"busy", status=503, Retry_After="3600")
    t0 = time.monotonic()
    with fetcher(max_wait=0.3, retries=2) as f:
        res = f.get(hostile.base + "/never.html")
    assert res.status == "failed" and "HTTP 503" in res.reason and time.monotonic() - t0 < 3


def test_one_source_that_fails_in_any_way_leaves_the_others_crawled(tmp_path):
    site = Site().start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(site.sources_toml(), encoding="utf-8")
        good = load_sources(reg)[0]

        class Exhausted(Fetcher):  # a fault no server can be trusted to cause: memory runs out
            def get(self, url, etag=None, last_modified=None):
                raise MemoryError

        store = RawStore(tmp_path / "raw")
        bad = crawl_source(good, store, fetcher=Exhausted(allows=good.allows))
        assert [(i.status, i.reason) for i in bad.items] == [("failed", "crawl stopped: MemoryError: ")]
        ok = crawl_source(good, store)
        assert {i.url.replace(site.base, "") for i in ok.documents()} == {
            "/nb/2023.html", "/files/2022.pdf", "/files/2021.docx", "/nb/2020.html", "/nb/slow.html"}
    finally:
        site.stop()


@pytest.mark.slow
def test_nightly_finishes_within_its_deadlines_and_loads_the_good_source(hostile, tmp_path, prefect_env):
    hostile.routes["/robots.txt"] = send(BOMB, ctype="text/plain", Content_Encoding="gzip, gzip")
    hostile.routes["/nb/index.html"] = send(
        "<html><body><a href='/nb/bomb.html'>2023年政府信息公开工作年度报告</a>"
        "<a href='/nb/drip.html'>2022年政府信息公开工作年度报告</a></body></html>".encode())
    hostile.routes["/nb/bomb.html"] = send(BOMB, Content_Encoding="gzip, gzip")
    hostile.routes["/nb/drip.html"] = drip
    site = Site().start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(f"""
[[sources]]
slug = "hostile"
body = "恶意区人民政府"
list_url = "{hostile.base}/nb/index.html"
allowed_domains = ["127.0.0.1"]
rate = 50.0
max_bytes = 5000000
timeout = 2.0
deadline = 3.0
""" + site.sources_toml(), encoding="utf-8")
        wh = tmp_path / "wh"
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "flows.cli", "nightly", "-s", str(reg), "-w", str(wh)],
                           capture_output=True, text=True, cwd=ROOT, env=prefect_env, timeout=300)
        took = time.monotonic() - t0
    finally:
        site.stop()
    assert r.returncode == 0, r.stdout + r.stderr
    from load import connect_readonly

    con = connect_readonly(wh)
    try:
        years = [y for (y,) in con.execute("SELECT year FROM reports ORDER BY year").fetchall()]
        origins = {o for (o,) in con.execute("SELECT DISTINCT origin FROM documents").fetchall()}
    finally:
        con.close()
    assert years == [2019, 2020, 2021, 2022, 2023] and origins == {"testsite"}
    assert "deadline of 3 s" in r.stdout + r.stderr and "decompressed" in r.stdout + r.stderr
    assert took < 120
