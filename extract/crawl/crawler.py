"""Crawl one source: list pages → report links → report pages → attachments, each
fetched once into the raw store, conditionally (ETag / Last-Modified) on later crawls.

Nothing outside the source's allowed domains is fetched (links, attachments and
redirects alike), robots.txt is obeyed, and every skip carries its reason."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import lxml.html

from ..detect import decode_text
from ..html import wanted_pictures
from ..htmlimg import MAX_IMAGE_BYTES, MAX_IMAGES, MAX_TOTAL_BYTES
from .fetch import Fetcher
from .registry import Source
from .store import RawStore

log = logging.getLogger("xxgk.crawl")


@dataclass(slots=True)
class CrawlItem:
    source: str
    url: str
    kind: str
    """`list` (a list page), `report` (a report page), `attachment` or `image` (a picture
    in a report page that lacks a table: its table as an image, read with the page)."""
    status: str
    """`new`, `changed`, `unchanged`, `skipped`, `failed` or `planned` (dry run)."""
    sha256: str | None = None
    path: str | None = None
    reason: str | None = None
    fetched_at: str | None = None
    year: int | None = None
    title: str | None = None
    document: bool = True
    """False for a report page that only links its attachments (not itself a report)."""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class CrawlReport:
    source: str
    items: list[CrawlItem] = field(default_factory=list)
    requests: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for it in self.items:
            if it.kind != "list":
                out[it.status] = out.get(it.status, 0) + 1
        return out

    def documents(self, statuses=("new", "changed")) -> list[CrawlItem]:
        return [it for it in self.items if it.document and it.kind != "list" and it.status in statuses]


@dataclass(slots=True)
class Link:
    url: str
    title: str
    year: int | None


def _links(html: str, base: str) -> list[tuple[str, str]]:
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    out = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        text = re.sub(r"\s+", "", a.text_content() or "") or (a.get("title") or "")
        out.append((urldefrag(urljoin(base, href))[0], text))
    return out


_FILE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def link_year(text: str, url: str, year_re: re.Pattern) -> int | None:
    """The year a report link names: `year_re` on its text, then on its (decoded) URL, then a
    bare year in the URL's file name (`…/2023.html`, `2023nb.pdf`; not the dated folders of
    CMS paths such as `/art/2024/1/20/`, which tell when it was published)."""
    m = year_re.search(text) or year_re.search(unquote(url))
    if m is None:
        name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        m = _FILE_YEAR.search(unquote(name))
    return int(m.group(1)) if m else None


def links_from(anchors: list[tuple[str, str]], source: Source) -> list[Link]:
    """The report links among a list page's anchors (absolute URL, text): the text matches
    `link_pattern` and, unless `require_year` is off, the text or URL names a year (a
    link titled just 政府信息公开年报 is the column's own navigation)."""
    pattern, year_re = re.compile(source.link_pattern), re.compile(source.year_pattern)
    out, seen = [], set()
    for url, text in anchors:
        if url in seen or not pattern.search(text):
            continue
        year = link_year(text, url, year_re)
        if year is None and source.require_year:
            continue
        seen.add(url)
        out.append(Link(url, text, year))
    return out


def report_links(html: str, base: str, source: Source) -> list[Link]:
    return links_from(_links(html, base), source)


def attachment_links(html: str, base: str, source: Source) -> list[str]:
    if not source.attachments:
        return []
    pattern = re.compile(source.attachments, re.I)
    out = []
    for url, _ in _links(html, base):
        if pattern.search(url) and url not in out:
            out.append(url)
    return out


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def crawl_source(source: Source, store: RawStore, years: set[int] | None = None, dry_run: bool = False,
                 fetcher: Fetcher | None = None, progress=None) -> CrawlReport:
    """Crawl `source` into `store`. `years` keeps only report links of those years;
    `dry_run` lists what would be fetched without fetching report pages or attachments."""
    own = fetcher is None
    fetcher = fetcher or Fetcher(allows=source.allows, rate=source.rate, max_bytes=source.max_bytes,
                                 timeout=source.timeout, deadline=source.deadline)
    report = CrawlReport(source.slug)
    cache = store.load_cache(source.slug)
    try:
        _crawl_into(report, source, store, cache, fetcher, years, dry_run, progress)
    except Exception as exc:  # MemoryError included: one source's failure never stops the others
        log.warning("source %s failed: %s: %s", source.slug, type(exc).__name__, exc)
        report.items.append(CrawlItem(source.slug, source.list_url, "list", "failed",
                                      reason=f"crawl stopped: {type(exc).__name__}: {exc}"[:500], fetched_at=_now()))
    finally:
        report.requests = fetcher.requests
        if own:
            fetcher.close()
        if not dry_run:
            store.save_cache(source.slug, cache)
    return report


def _crawl_into(report: CrawlReport, source: Source, store: RawStore, cache: dict, fetcher: Fetcher,
                years: set[int] | None, dry_run: bool, progress) -> None:
    """List pages → report links → each report (a failing link is a failed item)."""
    links: list[Link] = []
    seen: set[str] = set()
    for n, page in enumerate(source.list_pages()):
        anchors, item = _list_page(fetcher, cache, source.slug, page)
        if anchors is None:
            if n == 0 or item.status != "failed" or "404" not in (item.reason or ""):
                report.items.append(item)
            break
        found = [lk for lk in links_from(anchors, source) if lk.url not in seen]
        item.reason = f"{len(found)} report links" + (" (list page unchanged)" if item.status == "unchanged"
                                                      else "")
        report.items.append(item)
        if not found:
            break
        for lk in found:
            seen.add(lk.url)
            links.append(lk)
    todo = [lk for lk in links if not years or lk.year in years]

    def handle(lk: Link) -> list[CrawlItem]:
        try:
            return _report(source, fetcher, store, cache, lk, dry_run, progress)
        except Exception as exc:  # MemoryError included: the other links go on
            log.warning("report %s failed: %s: %s", lk.url, type(exc).__name__, exc)
            return [CrawlItem(source.slug, lk.url, "report", "failed", reason=f"{type(exc).__name__}: {exc}"[:500],
                              fetched_at=_now(), year=lk.year, title=lk.title)]

    if source.concurrency > 1 and len(todo) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=source.concurrency) as pool:
            for items in pool.map(handle, todo):
                report.items += items
    else:
        for lk in todo:
            report.items += handle(lk)


def _list_page(fetcher: Fetcher, cache: dict, slug: str, url: str) -> tuple[list | None, CrawlItem]:
    """A list page's anchors [(absolute URL, text)], fetched conditionally: on a 304 the
    anchors kept from the last crawl (with the page's validators in the cache). None when
    the page could not be read (the item says why)."""
    prev = cache.get(url, {})
    kept = prev.get("anchors")
    res = fetcher.get(url, prev.get("etag"), prev.get("last_modified")) if kept is not None else fetcher.get(url)
    if res.status == "not_modified" and kept is not None:
        return [tuple(a) for a in kept], CrawlItem(slug, url, "list", "unchanged", fetched_at=prev.get("fetched_at"))
    if res.status == "not_modified":  # validators without anchors (an older cache): fetch in full
        res = fetcher.get(url)
    if res.status != "ok":
        return None, CrawlItem(slug, url, "list", res.status, reason=res.reason, fetched_at=_now())
    anchors = _links(decode_text(res.content), res.final_url or url)
    cache[url] = {**prev, "etag": res.etag, "last_modified": res.last_modified, "anchors": anchors,
                  "fetched_at": _now()}
    return anchors, CrawlItem(slug, url, "list", "ok", fetched_at=cache[url]["fetched_at"])


DEAD_STATUSES = (404, 410)
DEAD_RETRY = dt.timedelta(days=7)
"""A link that answered 404 or 410 is not asked again for this long."""


def _dead_skip(prev: dict) -> str | None:
    """The reason to skip a link remembered as dead and not yet due for a retry, else None."""
    dead = prev.get("dead")
    if not dead:
        return None
    try:
        due = dt.datetime.fromisoformat(dead["checked_at"]) + DEAD_RETRY
    except (KeyError, TypeError, ValueError):
        return None  # a damaged entry: ask again
    if dt.datetime.now(dt.timezone.utc) >= due:
        return None
    return (f"dead link ({dead.get('reason', 'gone')} since {dead.get('since', '?')[:10]}): "
            f"not asked again before {due:%Y-%m-%d}")


def _report(source: Source, fetcher: Fetcher, store: RawStore, cache: dict, lk: Link, dry_run: bool,
            progress) -> list[CrawlItem]:
    """One report link: the page, then its attachments."""
    if not source.allows(lk.url):
        reason = f"{lk.url}: host not in the source's allowed domains"
        log.info("skip %s", reason)
        return [CrawlItem(source.slug, lk.url, "report", "skipped", reason=reason, year=lk.year, title=lk.title)]
    if dry_run:
        return [CrawlItem(source.slug, lk.url, "report", "planned", year=lk.year, title=lk.title)]
    item, content = _fetch_into(fetcher, store, cache, source.slug, lk.url, "report", lk.year, lk.title)
    out = [item]
    if progress:
        progress(1)
    # attachments: from the page just fetched, or (on a 304) as found by the last crawl
    if content is not None:
        html = decode_text(content) if item.path and item.path.endswith(".html") else ""
        attachments = attachment_links(html, item.url, source) if html else []
        if attachments and "<table" not in html.lower():
            item.document = False  # a page that only links its report files
        pictures = wanted_pictures(content) if html and item.document else []
        if pictures:  # its tables are pictures: fetched with it, read with it
            out += _pictures(source, fetcher, store, cache, item, pictures)
        if item.url in cache:
            cache[item.url]["attachments"] = attachments
            cache[item.url]["document"] = item.document
    else:
        attachments = cache.get(lk.url, {}).get("attachments", [])
        item.document = cache.get(lk.url, {}).get("document", True)
    for att in attachments:
        if not source.allows(att):
            reason = f"{att}: host not in the source's allowed domains"
            log.info("skip %s", reason)
            out.append(CrawlItem(source.slug, att, "attachment", "skipped", reason=reason, year=lk.year,
                                 title=lk.title))
            continue
        a_item, _ = _fetch_into(fetcher, store, cache, source.slug, att, "attachment", lk.year, lk.title)
        out.append(a_item)
    return out


def _pictures(source: Source, fetcher: Fetcher, store: RawStore, cache: dict, page: CrawlItem,
              srcs: list[str]) -> list[CrawlItem]:
    """Fetch the pictures of a report page that lacks a table (its tables pasted as images)
    into the raw store, within the source's domains and the limits (MAX_IMAGES pictures,
    MAX_IMAGE_BYTES each, MAX_TOTAL_BYTES in all), and record the page's `src` → picture
    hash map for the reader (`RawStore.put_page_images`). Inline `data:` pictures need no
    fetch. One item per picture fetched or skipped, never a document of its own."""
    out: list[CrawlItem] = []
    found: dict[str, str] = {}
    total = tried = 0
    for src in (s for s in dict.fromkeys(srcs) if s and not s.startswith("data:")):
        url = urldefrag(urljoin(page.url, src))[0]
        reason = None
        if tried >= MAX_IMAGES:  # fetches count, not the pictures skipped before them
            reason = f"more than {MAX_IMAGES} pictures in the page"
        elif urlsplit(url).scheme not in ("http", "https") or not source.allows(url):
            reason = f"{url}: host not in the source's allowed domains"
        elif total >= MAX_TOTAL_BYTES:
            reason = f"the page's pictures exceed {MAX_TOTAL_BYTES} bytes in all"
        if reason is not None:
            out.append(CrawlItem(source.slug, url, "image", "skipped", reason=reason, year=page.year,
                                 title=page.title, document=False))
            continue
        tried += 1
        item, content = _fetch_into(fetcher, store, cache, source.slug, url, "image", page.year, page.title,
                                    max_bytes=min(MAX_IMAGE_BYTES, MAX_TOTAL_BYTES - total))
        item.document = False
        out.append(item)
        if item.sha256 is not None:
            found[src] = item.sha256
            total += len(content) if content is not None else 0
    if page.sha256 is not None:
        store.put_page_images(page.sha256, found)
    return out


def _fetch_into(fetcher: Fetcher, store: RawStore, cache: dict, slug: str, url: str, kind: str,
                year: int | None, title: str | None, max_bytes: int | None = None) -> tuple[CrawlItem, bytes | None]:
    prev = cache.get(url, {})
    dead = _dead_skip(prev)
    if dead is not None:
        log.info("skip %s: %s", url, dead)
        return CrawlItem(slug, url, kind, "skipped", reason=dead, year=year, title=title), None
    res = fetcher.get(url, prev.get("etag"), prev.get("last_modified"), max_bytes=max_bytes)
    now = _now()
    if res.http_status in DEAD_STATUSES:  # remembered: asked again after DEAD_RETRY
        since = (prev.get("dead") or {}).get("since", now)
        cache[url] = {**prev, "dead": {"reason": f"HTTP {res.http_status}", "since": since, "checked_at": now}}
    elif res.status in ("ok", "not_modified") and "dead" in prev:
        cache[url] = prev = {k: v for k, v in prev.items() if k != "dead"}
    if res.status == "not_modified" and prev.get("sha256"):
        path = store.find(prev["sha256"])
        if path is not None:
            return CrawlItem(slug, url, kind, "unchanged", prev["sha256"], str(path), fetched_at=prev.get("fetched_at"),
                             year=year, title=title), None
        res = fetcher.get(url, max_bytes=max_bytes)  # the stored copy is gone: fetch it again in full
    if res.status != "ok":
        return CrawlItem(slug, url, kind, res.status, reason=res.reason, fetched_at=now, year=year, title=title), None
    hint = res.final_url or url
    if res.content_type and res.content_type.split(";")[0].strip() == "text/plain":
        hint = "document.txt"  # the server says plain text, whatever the URL's suffix
    sha, path, _ = store.put(res.content, hint)
    status = "unchanged" if prev.get("sha256") == sha else ("changed" if prev else "new")
    cache[url] = {**prev, "etag": res.etag, "last_modified": res.last_modified, "sha256": sha,
                  "fetched_at": now if status != "unchanged" else prev.get("fetched_at", now)}
    return CrawlItem(slug, url, kind, status, sha, str(path), fetched_at=cache[url]["fetched_at"], year=year,
                     title=title), res.content
