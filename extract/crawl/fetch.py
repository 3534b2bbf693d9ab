"""Polite HTTP for the crawler (httpx): robots.txt, per-host rate limits, retries with
backoff on timeouts and 5xx (never on 4xx), conditional GET, a response size cap, and
redirects followed only inside the source's allowed domains."""

from __future__ import annotations

import logging
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

log = logging.getLogger("xxgk.crawl")

USER_AGENT = "xxgk/0.2 (government information disclosure annual reports; +https://github.com/xxgk)"
MAX_REDIRECTS = 5


@dataclass(slots=True)
class FetchResult:
    url: str
    """The URL asked for."""
    status: str
    """`ok` (content), `not_modified` (304), `skipped` (not fetched: robots, domain, size) or `failed`."""
    final_url: str | None = None
    content: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    reason: str | None = None
    attempts: int = 0
    http_status: int | None = None
    """The final response's HTTP status code (None when no response came)."""


@dataclass
class Fetcher:
    """One per crawl. `allows(url)` decides the domains; everything else is politeness."""

    allows: callable
    rate: float = 2.0
    max_bytes: int = 50 * 2**20
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    user_agent: str = USER_AGENT
    _client: httpx.Client | None = field(default=None, repr=False)
    _robots: dict = field(default_factory=dict, repr=False)
    _next: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    requests: int = 0

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                    headers={"User-Agent": self.user_agent})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- politeness ---------------------------------------------------------------------

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, 0.0))
            self._next[host] = at + 1.0 / self.rate
        if at > now:
            time.sleep(at - now)

    def robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(base)
        if parser is None:
            parser = urllib.robotparser.RobotFileParser()
            try:
                self._wait_turn(base)
                self.requests += 1
                r = self._client.get(base + "/robots.txt")
                if r.status_code == 200:
                    parser.parse(r.text.splitlines())
                else:  # no robots.txt (404) or an error page: everything allowed
                    parser.parse([])
            except httpx.HTTPError:
                parser.parse([])
            self._robots[base] = parser
        return parser.can_fetch(self.user_agent, url)

    # -- fetching -----------------------------------------------------------------------

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url`: conditional when a validator is given; never raises for HTTP trouble."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allows(current):
                return self._skip(url, f"{current}: host not in the source's allowed domains")
            if not self.robots_allow(current):
                return self._skip(url, f"{current}: forbidden by robots.txt")
            res = self._get_once(url, current, etag, last_modified)
            if res.status == "redirect":
                current = res.final_url
                continue
            return res
        return FetchResult(url, "failed", reason=f"more than {MAX_REDIRECTS} redirects")

    def _skip(self, url: str, reason: str) -> FetchResult:
        log.info("skip %s", reason)
        return FetchResult(url, "skipped", reason=reason)

    def _get_once(self, url: str, current: str, etag, last_modified) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        delay = self.backoff
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(current)
            self.requests += 1
            try:
                with self._client.stream("GET", current, headers=headers) as r:
                    if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
                        return FetchResult(url, "redirect", final_url=urljoin(current, r.headers["location"]))
                    if r.status_code == 304:
                        return FetchResult(url, "not_modified", final_url=current, etag=etag,
                                           last_modified=last_modified, attempts=attempt, http_status=304)
                    if r.status_code >= 500:
                        raise _Retry(f"HTTP {r.status_code}")
                    if r.status_code >= 400:
                        return FetchResult(url, "failed", final_url=current, attempts=attempt,
                                           reason=f"HTTP {r.status_code} (not retried)", http_status=r.status_code)
                    declared = r.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self.max_bytes:
                        return self._skip(url, f"{current}: {int(declared)} bytes exceeds max_bytes={self.max_bytes}")
                    chunks, size = [], 0
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            return self._skip(url, f"{current}: more than max_bytes={self.max_bytes} bytes")
                        chunks.append(chunk)
                    return FetchResult(url, "ok", final_url=current, content=b"".join(chunks),
                                       etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"),
                                       content_type=r.headers.get("content-type"), attempts=attempt,
                                       http_status=r.status_code)
            except (_Retry, httpx.TimeoutException, httpx.TransportError) as exc:
                reason = str(exc) if isinstance(exc, _Retry) else f"{type(exc).__name__}"
                if attempt > self.retries:
                    log.warning("fail %s: %s after %d attempts", current, reason, attempt)
                    return FetchResult(url, "failed", final_url=current, attempts=attempt,
                                       reason=f"{reason} after {attempt} attempts")
                log.info("retry %s: %s (attempt %d, waiting %.1f s)", current, reason, attempt, delay)
                time.sleep(delay)
                delay *= 2


class _Retry(Exception):
    pass
