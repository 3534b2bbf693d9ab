"""Document metadata from text: issuing body, data year, publication date.

The title (`<X>2020年政府信息公开工作年度报告` or `2019年<X>政府信息公开…`) gives the
body and the year; the publication date is the date line of the signature at the end,
else a `发布日期` line, else the page's `PubDate` meta. Statistic periods
(`2020年1月1日起至…`) are never taken for the publication date.

The title a reader sees wins: the report's own (in its text), else the nearest one
printed above an HTML page's report container (hint `heading`); the page's `<title>`, its
`ArticleTitle` meta and a Word file's title property only when neither names a year (a
CMS fills them from a template, and a browser's print of the page shows the visible title
alone). When they name another year or body, the year is doubted here (`year_doubt`) and
the body is kept in `page_agency` for transform to compare.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from common.text import fold_radicals

from .models import RawDocument

_TITLE_TAIL = (r"(?P<year>(?:19|20)\d{2})年度?(?P<post>[^。；;：:\n\d]{0,40}?)"
               r"政府信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)")
_TITLE = re.compile(r"(?P<pre>[^。；;：:\n]{0,40}?)" + _TITLE_TAIL)
_YEAR_ON = re.compile(_TITLE_TAIL)
"""`_TITLE` from its year on. `pre` may be empty, so `_TITLE` matches wherever this does and
nowhere more than 40 characters before the first place it does: `_TITLE` is searched from
there (tried at every character of a page's text, its lazy `pre` cost a millisecond)."""
_PERIOD = re.compile(r"统计期限[^。]{0,20}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_CN_DIGITS = "〇○零ОO一二三四五六七八九十"
_DATE_LINE = re.compile(
    rf"^\s*((?:19|20)\d{{2}}|[二][{_CN_DIGITS}]{{3}})\s*年\s*(\d{{1,2}}|[{_CN_DIGITS}]{{1,3}})\s*月"
    rf"\s*(\d{{1,2}}|[{_CN_DIGITS}]{{1,3}})\s*日\s*$", re.M)
_ISO = re.compile(r"((?:19|20)\d{2})[-/.年]\s*(\d{1,2})[-/.月]\s*(\d{1,2})")
_PUB_LABEL = re.compile(r"(?:发布日期|发布时间|成文日期|日期|时间)\s*[:：]\s*((?:19|20)\d{2}[-/.年]\s*\d{1,2}[-/.月]\s*\d{1,2})(?!\d)"
                        r"(?!\s*日?\s*(?:至|起|到|—|-|~))")
_CUT = re.compile(r"^(?:关于|.*[>|｜»/])")
_BODY_END = ("人民政府", "政府", "办公厅", "办公室", "局", "委员会", "委", "厅", "中心", "院", "署", "部", "会", "处", "所", "站", "街道办事处", "街道", "镇", "乡", "区", "队", "馆")


@dataclass(slots=True)
class DocumentMeta:
    agency: str | None = None
    year: int | None = None
    published: dt.date | None = None
    title: str | None = None
    year_doubt: str | None = None
    """Why the year is not sure, when the document states two (its page's title and its
    own, the title and the statistics period) or was published before that year ended."""
    page_agency: str | None = None
    """The body the page's title (`<title>`, `ArticleTitle`, a Word file's title property)
    names, when it is not the visible title's `agency`."""


_CN_VALUE = {c: k for k, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "О": 0, "O": 0}


def cn_number(text: str) -> int | None:
    """A date part in digits or Chinese numerals: 2021, 二〇二一 (digit by digit), 十二,
    二十一, 三十; None when it is neither."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        if text.count("十") > 1 or len(text) > 3:
            return None
        tens, _, units = text.partition("十")
        if (tens and tens not in _CN_VALUE) or (units and units not in _CN_VALUE):
            return None
        return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[units] if units else 0)
    if all(c in _CN_VALUE for c in text):
        return int("".join(str(_CN_VALUE[c]) for c in text))
    return None


def _date(y: str, m: str, d: str) -> dt.date | None:
    parts = [cn_number(p) for p in (y, m, d)]
    if None in parts:
        return None
    try:
        return dt.date(*parts)
    except ValueError:
        return None


def _compact(text: str) -> str:
    return re.sub(r"[ \t\u3000\xa0]+", "", text)


def _flatten(text: str) -> tuple[str, list[int]]:
    """`text` without whitespace (titles wrap anywhere), and where its lines began in it."""
    flat, starts = [], []
    n = 0
    for line in text.splitlines():
        part = "".join(line.split())  # `re.sub(r"\s+", "", line)`: both split at `str.isspace`
        if part:
            starts.append(n)
            flat.append(part)
            n += len(part)
    return "".join(flat), starts


def _title_start(flat: str, m: re.Match, starts: list[int]) -> int:
    """Where the title begins in `flat`: at the start of the line the year is on, not in the
    lines above (a browser-printed page puts the site's menu and sidebar there: 热点信息 …
    的通知), unless what precedes the year on its line is no name (nothing, one character,
    a bare 人民政府 or 办公室: the title wrapped there), then a line further up."""
    post = m.group("post").strip("《》“”\"' ")
    for start in reversed([k for k in starts if m.start("pre") < k <= m.start("year")]):
        part = flat[start:m.start("year")].strip("《》“”\"' ")
        if (not part and len(post) >= 2) or (len(part) >= 2 and part not in _BODY_END):
            return start
    return m.start("pre")


def find_title(text: str, last: bool = False) -> tuple[str | None, int | None, str | None]:
    """(agency, year, title) from the first title-like match in `text` (the last one with
    `last`: the title right above a page's report, below menus and sidebars listing others)."""
    flat, starts = _flatten(text)
    first = _YEAR_ON.search(flat)
    if not first:
        return None, None, None
    start = max(first.start() - 40, 0)
    m = None
    for m in _TITLE.finditer(flat, start) if last else [_TITLE.search(flat, start)]:
        pass
    if not m:
        return None, None, None
    begin = _title_start(flat, m, starts)
    pre = flat[begin:m.end("pre")].strip("《》“”\"' ")
    post = m.group("post").strip("《》“”\"' ")
    pre = re.split(r"[>|｜»/_]", pre)[-1]
    pre = re.sub(r"^.*?(?:关于印发|关于|印发|发布)", "", pre) if re.search(r"关于|印发|发布", pre) else pre
    agency = post if post and not pre else pre or post or None
    if agency:
        agency = agency.rstrip("的")
        if len(agency) < 2:
            agency = None
    return agency, int(m.group("year")), flat[begin:m.end()]


def signature(text: str) -> tuple[str | None, dt.date | None]:
    """The signature block at the end: (body line, date line), if present."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    tail = lines[-12:]
    for k in range(len(tail) - 1, -1, -1):
        m = _DATE_LINE.match(tail[k])
        if m:
            body = None
            if k > 0:
                prev = _compact(tail[k - 1])
                if 2 <= len(prev) <= 40 and prev.endswith(_BODY_END) and not re.search(r"[，。；：]", prev):
                    body = prev
            return body, _date(*m.groups())
    return None, None


def metadata_from_document(doc: RawDocument) -> DocumentMeta:
    meta = DocumentMeta()
    text = fold_radicals(doc.text)
    hints = {k: fold_radicals(v) for k, v in doc.hints.items()}
    visible = find_title(text[:3000])
    if visible[1] is None and hints.get("heading"):
        visible = find_title(hints["heading"], last=True)
    page = (None, None, None)
    for src in (hints.get("articletitle", ""), hints.get("title", "")):
        found = find_title(src) if src else (None, None, None)
        if found[1] is not None and page[0] is None:
            page = found
    if visible[1] is not None:
        meta.agency, meta.year, meta.title = visible
        if meta.agency is None:
            meta.agency = page[0]
        elif page[0] and page[0] != meta.agency:
            meta.page_agency = page[0]
    else:
        meta.agency, meta.year, meta.title = page
    body, signed = signature(text)
    if meta.agency is None and body:
        meta.agency = body
    m = _PERIOD.search(_compact(text[:6000]))
    period = int(m.group(1)) if m else None
    if meta.year is None:
        meta.year = period
    elif page[1] is not None and page[1] != meta.year:
        meta.year_doubt = f"year unclear: the page's title says {page[1]}, the report's own title {meta.year}"
    elif period is not None and period != meta.year:
        meta.year_doubt = f"year unclear: the title says {meta.year}, the statistics period {period}"
    meta.published = signed
    if meta.published is None:
        m = _PUB_LABEL.search(text[:6000])
        if m:
            iso = _ISO.search(m.group(1))
            meta.published = _date(*iso.groups()) if iso else None
    if meta.published is None and hints.get("pubdate"):
        iso = _ISO.search(hints["pubdate"])
        meta.published = _date(*iso.groups()) if iso else None
    if meta.year_doubt is None and meta.year is not None and meta.published is not None \
            and meta.published.year <= meta.year:
        # a year's report is published after the year: the title may name the year of publication
        meta.year_doubt = f"year unclear: the title says {meta.year}, published {meta.published.isoformat()}"
    return meta
