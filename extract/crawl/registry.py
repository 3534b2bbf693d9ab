"""The source registry: which sites to crawl and how, from a TOML file the user edits.

    [[sources]]
    slug = "hongze"                                  # short unique name
    body = "淮安市洪泽区人民政府"                    # the body or region it covers
    list_url = "https://www.hongze.gov.cn/col/nb/index.html"
    page_url = "https://www.hongze.gov.cn/col/nb/index_{n}.html"   # optional: pages 2, 3, …
    page_start = 1                                   # the {n} of the second list page
    max_pages = 10
    link_pattern = "年度报告|年报"                   # regex on the link text (or title)
    year_pattern = "(20\\d{2})\\s*年"                # regex whose group 1 is the year (text, else URL)
    require_year = true                              # a link must name its year (text or URL): not
                                                     # the column's own 政府信息公开年报 nav link
    allowed_domains = ["www.hongze.gov.cn"]          # nothing else is fetched, redirects included
    rate = 2.0                                       # requests per second per host
    concurrency = 1
    timeout = 30.0                                   # seconds to connect and for each read
    deadline = 300.0                                 # seconds for a whole response
    max_bytes = 52428800                             # decompressed size cap per response
    attachments = "\\.(pdf|docx?|wps)$"              # optional: attachment links on report pages

Every key is checked on load; a mistake names the file, the source and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import XxgkError


class RegistryError(XxgkError):
    """The source registry file is malformed."""


_KEYS = {"slug", "body", "list_url", "page_url", "page_start", "max_pages", "link_pattern", "year_pattern",
         "require_year", "allowed_domains", "rate", "concurrency", "attachments", "max_bytes", "timeout", "deadline"}


@dataclass(frozen=True, slots=True)
class Source:
    slug: str
    list_url: str
    allowed_domains: tuple[str, ...]
    body: str | None = None
    page_url: str | None = None
    page_start: int = 1
    max_pages: int = 10
    link_pattern: str = "年度报告|年报"
    year_pattern: str = r"((?:19|20)\d{2})\s*年"
    require_year: bool = True
    """Only links whose text or URL names a year are reports (a link titled just
    政府信息公开年报 is the column's own navigation, not a report)."""
    rate: float = 2.0
    concurrency: int = 1
    attachments: str | None = r"\.(?:pdf|docx?|wps)(?:$|\?)"
    max_bytes: int = 50 * 2**20
    timeout: float = 30.0
    deadline: float = 300.0
    """Seconds for one whole response (a server dripping bytes is cut off after this)."""

    def allows(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def list_pages(self) -> list[str]:
        pages = [self.list_url]
        if self.page_url:
            pages += [self.page_url.format(n=n) for n in range(self.page_start, self.page_start + self.max_pages - 1)]
        return pages


def _fail(path: Path, where: str, msg: str):
    raise RegistryError(f"{path}: {where}: {msg}")


def load_sources(path: Path) -> list[Source]:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: no such source registry file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML ({exc})") from exc
    entries = raw.get("sources")
    if not isinstance(entries, list) or not entries:
        _fail(path, "top level", "expected one or more [[sources]] tables")
    out, seen = [], set()
    for k, e in enumerate(entries):
        where = f"sources[{k}]" + (f" ({e.get('slug')})" if isinstance(e, dict) and e.get("slug") else "")
        unknown = set(e) - _KEYS
        if unknown:
            _fail(path, where, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_KEYS))}")
        for key in ("slug", "list_url", "allowed_domains"):
            if key not in e:
                _fail(path, where, f"missing `{key}`")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", e["slug"]):
            _fail(path, where, "`slug` must be lowercase letters, digits, - or _")
        if e["slug"] in seen:
            _fail(path, where, f"duplicate slug {e['slug']!r}")
        seen.add(e["slug"])
        domains = e["allowed_domains"]
        if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
            _fail(path, where, "`allowed_domains` must be a list of host names")
        for key in ("link_pattern", "year_pattern", "attachments"):
            if key in e and e[key] is not None:
                try:
                    re.compile(e[key])
                except re.error as exc:
                    _fail(path, where, f"`{key}` is not a valid regular expression ({exc})")
        if "require_year" in e and not isinstance(e["require_year"], bool):
            _fail(path, where, "`require_year` must be true or false")
        if "page_url" in e and "{n}" not in e["page_url"]:
            _fail(path, where, "`page_url` needs a {n} placeholder for the page number")
        for key, typ in (("rate", (int, float)), ("concurrency", int), ("max_pages", int), ("page_start", int),
                         ("max_bytes", int), ("timeout", (int, float)), ("deadline", (int, float))):
            if key in e and (not isinstance(e[key], typ) or e[key] <= 0 and key != "page_start"):
                _fail(path, where, f"`{key}` must be a positive number")
        src = Source(**{**e, "allowed_domains": tuple(d.lower() for d in domains)})
        if not src.allows(src.list_url):
            _fail(path, where, f"`list_url` host is not in allowed_domains {list(src.allowed_domains)}")
        out.append(src)
    return out
