"""Polite HTTP for the crawler (httpx): robots.txt (with its Crawl-delay), per-host rate
limits, retries with backoff on timeouts, 5xx and 429 (Retry-After obeyed, bounded; never
on other 4xx), conditional GET, redirects followed only inside the source's allowed domains,
and limits that hold against a hostile server: a total deadline per response (not per
read: a server dripping a byte a second is cut off), and a size cap on the decompressed
body counted through every Content-Encoding layer, robots.txt included (a nested gzip
bomb stops at the cap, never in memory)."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import urllib.robotparser
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

log = logging.getLogger("xxgk.crawl")

USER_AGENT = "xxgk/0.2 (government information disclosure annual reports; +https://github.com/xxgk)"
MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512 * 2**10
"""robots.txt larger than this (decompressed) is read as absent (everything allowed)."""
MAX_WAIT = 60.0
"""The longest Crawl-delay or Retry-After obeyed (seconds): a server asking for more waits this."""
ACCEPT_ENCODING = "gzip, deflate"
"""The only encodings decoded (bounded, by `_Decoder`); a response in another one fails."""
_STEP = 64 * 2**10


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
    """Seconds for connecting and for each read."""
    deadline: float = 300.0
    """Seconds for a whole response, from the request to its last byte."""
    retries: int = 3
    max_wait: float = MAX_WAIT
    """The longest Crawl-delay or Retry-After obeyed (seconds)."""
    backoff: float = 1.0
    user_agent: str = USER_AGENT
    _client: httpx.Client | None = field(default=None, repr=False)
    _robots: dict = field(default_factory=dict, repr=False)
    _next: dict = field(default_factory=dict, repr=False)
    _delay: dict = field(default_factory=dict, repr=False)
    """host → seconds between requests asked by its robots.txt (Crawl-delay, bounded)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    requests: int = 0

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                    headers={"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING})

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
            self._next[host] = at + max(1.0 / self.rate, self._delay.get(host, 0.0))
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
                with self._client.stream("GET", base + "/robots.txt") as r:
                    body = self._body(r, ROBOTS_MAX_BYTES, time.monotonic() + min(self.deadline, 60.0))
                if r.status_code == 200:
                    parser.parse(body.decode("utf-8", "replace").splitlines())
                else:  # no robots.txt (404), an error page or one too large: everything allowed
                    parser.parse([])
            except (httpx.HTTPError, _Limit):
                parser.parse([])
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                self._delay[parts.netloc] = min(float(delay), self.max_wait)
            self._robots[base] = parser
        return parser.can_fetch(self.user_agent, url)

    # -- fetching -----------------------------------------------------------------------

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None,
            max_bytes: int | None = None) -> FetchResult:
        """GET `url`: conditional when a validator is given; never raises for HTTP trouble.
        `max_bytes`: a lower size cap for this response (a page's pictures)."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allows(current):
                return self._skip(url, f"{current}: host not in the source's allowed domains")
            if not self.robots_allow(current):
                return self._skip(url, f"{current}: forbidden by robots.txt")
            res = self._get_once(url, current, etag, last_modified, max_bytes)
            if res.status == "redirect":
                current = res.final_url
                continue
            return res
        return FetchResult(url, "failed", reason=f"more than {MAX_REDIRECTS} redirects")

    def _skip(self, url: str, reason: str) -> FetchResult:
        log.info("skip %s", reason)
        return FetchResult(url, "skipped", reason=reason)

    def _get_once(self, url: str, current: str, etag, last_modified, max_bytes: int | None = None) -> FetchResult:
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
                    return self._response(r, url, current, etag, last_modified, attempt, max_bytes)
            except _Limit as exc:
                log.warning("fail %s: %s", current, exc)
                return FetchResult(url, "failed", final_url=current, attempts=attempt, reason=str(exc))
            except (_Retry, httpx.TimeoutException, httpx.TransportError) as exc:
                reason = str(exc) if isinstance(exc, _Retry) else f"{type(exc).__name__}"
                if attempt > self.retries:
                    log.warning("fail %s: %s after %d attempts", current, reason, attempt)
                    return FetchResult(url, "failed", final_url=current, attempts=attempt,
                                       reason=f"{reason} after {attempt} attempts")
                wait = exc.wait if isinstance(exc, _Retry) and exc.wait is not None else delay
                log.info("retry %s: %s (attempt %d, waiting %.1f s)", current, reason, attempt, wait)
                time.sleep(wait)
                delay *= 2

    def _response(self, r: httpx.Response, url: str, current: str, etag, last_modified, attempt: int,
                  max_bytes: int | None = None) -> FetchResult:
        """One response as a FetchResult; `_Retry` for 5xx and 429, `_Limit` past a limit."""
        cap = min(self.max_bytes, max_bytes or self.max_bytes)
        if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
            return FetchResult(url, "redirect", final_url=urljoin(current, r.headers["location"]))
        if r.status_code == 304:
            return FetchResult(url, "not_modified", final_url=current, etag=etag,
                               last_modified=last_modified, attempts=attempt, http_status=304)
        if r.status_code >= 500 or r.status_code == 429:
            wait = retry_after(r.headers.get("retry-after"))
            raise _Retry(f"HTTP {r.status_code}", None if wait is None else min(wait, self.max_wait))
        if r.status_code >= 400:
            return FetchResult(url, "failed", final_url=current, attempts=attempt,
                               reason=f"HTTP {r.status_code} (not retried)", http_status=r.status_code)
        declared = r.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            return self._skip(url, f"{current}: {int(declared)} bytes exceeds max_bytes={cap}")
        try:
            content = self._body(r, cap, time.monotonic() + self.deadline)
        except _TooLarge as exc:
            return self._skip(url, f"{current}: {exc}")
        return FetchResult(url, "ok", final_url=current, content=content,
                           etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"),
                           content_type=r.headers.get("content-type"), attempts=attempt,
                           http_status=r.status_code)

    def _body(self, r: httpx.Response, limit: int, deadline: float) -> bytes:
        """The response's body, decoded through every Content-Encoding layer: `_TooLarge`
        past `limit` bytes at any layer, `_Limit` past `deadline` (time.monotonic)."""
        decoder = _Decoder(r.headers.get("content-encoding", ""), limit)
        for chunk in r.iter_raw():
            if time.monotonic() > deadline:
                raise _Limit(f"response not complete within the deadline of {self.deadline:g} s")
            decoder.feed(chunk)
        decoder.feed(b"", final=True)
        return b"".join(decoder.out)


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most MAX_WAIT."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_WAIT)


class _Decoder:
    """Content-Encoding layers undone incrementally, each layer's output capped at `limit`
    (at most `_STEP` bytes inflated at a time, so a bomb stops at the cap, not in memory)."""

    def __init__(self, header: str, limit: int):
        codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
        for c in codings:
            if c not in ("gzip", "x-gzip", "deflate"):
                raise _Limit(f"unsupported Content-Encoding {c!r}")
        self.codings = list(reversed(codings))  # the last applied is undone first
        self.layers: list = [None] * len(self.codings)
        self.sizes = [0] * (len(self.codings) + 1)
        self.limit = limit
        self.out: list[bytes] = []

    def _layer(self, i: int, data: bytes):
        if self.layers[i] is None:
            if self.codings[i] == "deflate":  # zlib-wrapped, or raw deflate from some servers
                wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                self.layers[i] = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            else:
                self.layers[i] = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return self.layers[i]

    def feed(self, data: bytes, final: bool = False, i: int = 0) -> None:
        if i == len(self.codings):
            self._emit(i, data)
            return
        d = self._layer(i, data) if data or self.layers[i] is not None else None
        while data and d is not None and not d.eof:
            try:
                piece = d.decompress(data, _STEP)
            except zlib.error as exc:
                raise _Limit(f"damaged {self.codings[i]} body: {exc}") from exc
            data = d.unconsumed_tail
            self._emit(i, piece)
            if not data and len(piece) == _STEP:  # more output may be pending
                while not d.eof:
                    piece = d.decompress(b"", _STEP)
                    self._emit(i, piece)
                    if len(piece) < _STEP:
                        break
        if final:
            if d is not None:
                self._emit(i, d.flush())
            self.feed(b"", final=True, i=i + 1)

    def _emit(self, i: int, piece: bytes) -> None:
        if not piece:
            return
        self.sizes[i] += len(piece)
        if self.sizes[i] > self.limit:
            raise _TooLarge(f"more than max_bytes={self.limit} bytes (decompressed)")
        if i == len(self.codings):
            self.out.append(piece)
        else:
            self.feed(piece, i=i + 1)


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class _Limit(Exception):
    """A response past a limit (deadline, encoding): failed, not retried."""


class _TooLarge(_Limit):
    """A body past the size cap: skipped with its reason."""
