"""HTML reports: CMS pages (UTF-8 or GBK family, declared or not) whose body sits in a
container such as `#zoom`, `.article-content` or `.TRS_Editor`. Tables are expanded to
a grid (rowspan/colspan), so every cell carries its grid columns as `x0..x1`. When the
page's tables lack a national-form table, the report body's pictures are read by OCR
(tables pasted as images: `htmlimg.py` says where their bytes come from)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import lxml.html
from lxml import etree

from . import htmlimg, image
from .detect import decode_text, looks_binary
from .errors import DocumentUnreadable, LimitExceeded
from .models import ExtractSettings, RawCell, RawDocument, RawRow, RawTable, without_bare_stand_ins

# Body containers of common government CMSs, most specific first.
BODY_SELECTORS = (
    "#zoom", "#Zoom", ".TRS_Editor", ".trs_editor_view", ".article-content", ".article_content",
    ".zw", "#zw", ".content", "#content", ".article", "article", ".main", "body",
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"}


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    settings = ExtractSettings.resolve(settings)
    data = path.read_bytes() if data is None else data
    html = _decoded(data)
    if looks_binary(html):
        raise DocumentUnreadable(path, "binary data, not an HTML page")
    parser = _parser()
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentUnreadable(path, f"not parseable as HTML ({exc})") from exc
    _check_depth(path, root, parser, settings.max_html_depth)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    hints = _hints(root)
    bodies = find_bodies(root)
    heading = text_above(root, bodies[0])
    if heading:
        hints["heading"] = heading
    tables = _leaf_tables(bodies)
    raw_tables = [table_to_raw(t, i) for i, t in enumerate(tables)]
    text = "\n".join(element_text(body) for body in bodies)
    cost = image.OcrCost()
    if htmlimg.missing_form_tables([t.text_content() for t in tables]):
        raw_tables += _pictures(path, data, root, bodies, settings, len(raw_tables), hints, cost)
    return cost.onto(RawDocument(path=path, format="html", text=text, tables=raw_tables, pages=None, hints=hints))


def page_identity(path: Path, data: bytes, sha256: str) -> str:
    """What `read_document` makes the identity of the page `path` (bytes `data`, hashing
    to `sha256`): `htmlimg.with_pictures` of the pictures it would read from outside its
    bytes. A run asks it to tell an unchanged page from one whose pictures changed."""
    srcs = wanted_pictures(data)
    if not srcs:
        return sha256
    return htmlimg.with_pictures(sha256, htmlimg.pictures_digest(htmlimg.load_images(path, data, srcs)))


def pictures_beside(path: Path, data: bytes, keep) -> tuple[htmlimg.StoredMap, str] | None:
    """The pictures a local page `path` (bytes `data`) reads from beside it, each handed to
    `keep(bytes) -> sha256` (the raw store) as it is read: the page's picture map for the
    raw store and its identity as read now (`page_identity`); None when it reads none."""
    srcs = wanted_pictures(data)
    if not srcs:
        return None
    stored, read = htmlimg.beside_page(path, data, srcs, keep)
    digest = htmlimg.pictures_digest(read)
    if not stored.images and not stored.refused:
        return None
    return stored, htmlimg.with_pictures(hashlib.sha256(data).hexdigest(), digest)


def wanted_pictures(data: bytes) -> list[str]:
    """The `src` of the pictures the reader would OCR in this page (in page order): none
    when its HTML tables hold every national-form table. The crawler fetches these."""
    try:
        root = lxml.html.document_fromstring(_decoded(data), parser=_parser())
    except (etree.ParserError, ValueError):
        return []
    bodies = find_bodies(root)
    if not htmlimg.missing_form_tables([t.text_content() for t in _leaf_tables(bodies)]):
        return []
    return htmlimg.sources(picture_bodies(root, bodies))


def _decoded(data: bytes) -> str:
    """The page's text, in the charset its <meta> declares (else detected)."""
    m = _META_CHARSET.search(data[:4096])
    return decode_text(data, m.group(1).decode("ascii", "replace") if m else None)


def _parser() -> lxml.html.HTMLParser:
    """huge_tree: a picture inlined as a data: URI is one attribute over libxml2's default
    10 MB limit (the page failed as "nested too deep"); nesting is bounded by
    `_check_depth` instead."""
    return lxml.html.HTMLParser(huge_tree=True)


def _leaf_tables(bodies: list) -> list:
    """The report's tables that hold no table (a layout table around them is not read)."""
    return [t for body in bodies for t in body.iter("table") if not t.xpath(".//table")]


def _pictures(path: Path, data: bytes, root, bodies: list, settings: ExtractSettings, first: int,
              hints: dict[str, str], cost: image.OcrCost) -> list[RawTable]:
    """Tables pasted into the report as pictures, read by OCR (`htmlimg`, `image`), when the
    page's HTML tables lack a national-form table. Pictures not read are noted in the hint
    `pictures` (the report's reason names them when it is not `ok`)."""
    srcs = htmlimg.sources(picture_bodies(root, bodies))
    if not srcs:
        return []
    images = htmlimg.load_images(path, data, srcs)
    digest = htmlimg.pictures_digest(images)
    if digest is not None:
        hints["pictures_sha256"] = digest
    tables, notes = image.read_page_images(path, images, settings, first, cost)
    if tables:
        hints["ocr"] = f"{len(tables)} pictures"
    if notes:
        hints["pictures"] = "; ".join(notes)
    return tables


def picture_bodies(root, bodies: list) -> list:
    """Where a report's pictures are: the report's containers, or when no container holds a
    table (`find_bodies` fell back to <body>), the first CMS container holding a picture;
    never the whole <body> (its logos and banners are no report)."""
    if any(b.tag != "body" for b in bodies):
        return bodies
    for sel in BODY_SELECTORS[:-1]:
        chosen = _outermost([el for el in _select(root, sel) if el.xpath(".//img")])
        if chosen:
            return chosen
    return []



def _check_depth(path: Path, root, parser, limit: int) -> None:
    """Refuse pages nested deeper than `limit`. libxml2 itself stops at a depth (2048 with
    huge_tree) and silently flattens the rest (which could shuffle cells), so its resource
    error counts too."""
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise LimitExceeded(path, f"HTML nested deeper than max_html_depth={limit} levels (the parser's own limit)")
    if root.xpath(f"boolean({'/*' * (limit + 1)})"):  # one pass in C, not in Python
        raise LimitExceeded(path, f"HTML nested deeper than max_html_depth={limit} levels")


def _hints(root) -> dict[str, str]:
    hints: dict[str, str] = {}
    title = root.find(".//title")
    if title is not None and title.text_content().strip():
        hints["title"] = title.text_content().strip()
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").lower()
        if name in ("articletitle", "pubdate", "url", "contentsource", "sitename"):
            hints[name] = (meta.get("content") or "").strip()
    return hints


HEADING_CHARS = 2000
"""How much of the page's text above the report's container is kept (hint `heading`)."""


def text_above(root, container) -> str:
    """The visible text above the report's container (its last HEADING_CHARS characters):
    where a CMS prints the report's title and its `发布时间` line, outside the container.
    Metadata takes the title a reader sees from it, not the page's `<title>`."""
    body = root.find(".//body")
    if body is None or container is body:
        return ""
    parts: list[str] = []

    def walk(node) -> bool:
        """Append `node`'s text up to `container`; True once it is reached."""
        if node is container:
            return True
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            if walk(child):
                return True
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        return False

    walk(body)
    text = re.sub(r"\n\s*\n+", "\n", "".join(parts).replace("\xa0", " "))
    return text[-HEADING_CHARS:].strip()


def find_bodies(root) -> list:
    """The report's containers: the first CMS selector's elements that hold a table (else
    <body>), plus any other CMS container elsewhere on the page holding a table of the
    national form (a roundup page of several reports, each in its own container, maybe of
    another CMS class). All are read, in page order: never one read and the rest dropped."""
    chosen: list = []
    for sel in BODY_SELECTORS[:-1]:
        chosen = _outermost([el for el in _select(root, sel) if el.xpath(".//table")])
        if chosen:
            break
    if not chosen:
        body = root.find(".//body")
        return [body if body is not None else root]
    for sel in BODY_SELECTORS[:-1]:
        for el in _select(root, sel):
            if not any(_related(el, c) for c in chosen) and _has_report_table(el):
                chosen.append(el)
    order = {id(e): k for k, e in enumerate(root.iter())}
    return sorted(_outermost(chosen), key=lambda e: order.get(id(e), 0))


_REPORT_TABLE = re.compile("主动公开|政府信息公开申请|行政复议")


def _has_report_table(el) -> bool:
    return any(_REPORT_TABLE.search(t.text_content() or "") for t in el.iter("table"))


def _related(a, b) -> bool:
    """One element is the other or holds it."""
    return a is b or any(x is b for x in a.iterancestors()) or any(x is a for x in b.iterancestors())


def _outermost(els: list) -> list:
    return [el for el in els if not any(any(x is o for x in el.iterancestors()) for o in els)]


def _select(root, sel: str):
    if sel.startswith("#"):
        return root.xpath(f"//*[@id='{sel[1:]}']")
    if sel.startswith("."):
        return root.xpath(f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {sel[1:]} ')]")
    return root.xpath(f"//{sel}")


def element_text(el) -> str:
    """Text with line breaks at block boundaries (so dates and titles stay on their lines)."""
    parts: list[str] = []

    def walk(node):
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in ("td", "th"):
            parts.append("\t")
        if tag in _BLOCK_TAGS:
            parts.append("\n")

    walk(el)
    text = "".join(parts).replace("\xa0", " ")
    return re.sub(r"\n\s*\n+", "\n", text)


_DIGIT = re.compile(r"\d")


_DIGIT_END = re.compile(r"\d[\s\u3000]*$")
_DIGIT_START = re.compile(r"^[\s\u3000]*\d")


def join_lines(lines: list[str]) -> str:
    """Lines of one table cell as one text: without a gap (a label wrapped in a narrow cell
    reads on), except between digits, which keep a space: `12` over `3` may be two numbers
    or one wrapped, and the number parser flags digits apart rather than guess."""
    out = ""
    for line in lines:
        if out and _DIGIT_END.search(out) and _DIGIT_START.match(line):
            out += " "
        out += line
    return out.strip()


def _needs_lines(td, text: str) -> bool:
    """True when the cell needs its lines looked at: digits, and more than one block."""
    if not _DIGIT.search(text):
        return False
    blocks = 0
    for el in td.iter("br", "p", "div"):
        blocks += 2 if el.tag == "br" else 1
        if blocks > 1:
            return True
    return False


def cell_text(td) -> str:
    """A cell's text; <br> and paragraphs inside a label join without a gap (but digits on
    both sides of one keep a space: see `join_lines`)."""
    text = td.text_content()
    if not _needs_lines(td, text):
        return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()
    lines: list[str] = [""]

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("br", "p", "div") and lines[-1]:
            lines.append("")
        if node.text and tag not in ("script", "style"):
            lines[-1] += node.text
        for child in node:
            walk(child)
            if child.tail:
                lines[-1] += child.tail
        if tag in ("p", "div") and lines[-1]:
            lines.append("")

    walk(td)
    return join_lines([re.sub(r"\s+", " ", ln.replace("\xa0", " ")).strip() for ln in lines if ln.strip()])


def _clean_cells(table) -> None:
    """What a reader of the page does not see does not count: hidden elements inside cells
    are dropped (`12<span style="display:none">9</span>` is 12, not 129), and superscripts
    and subscripts stand apart (`12<sup>1</sup>` is a footnote mark, not 121)."""
    for el in table.xpath(".//td//*[@style or @hidden] | .//th//*[@style or @hidden]"):
        style = (el.get("style") or "").replace(" ", "").lower()
        if el.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style:
            el.drop_tree()
    for el in table.iter("sup", "sub"):
        el.text = " " + (el.text or "")


def table_to_raw(table, index: int) -> RawTable:
    """Expand rowspan/colspan into a grid; each physical cell appears once, in its first row,
    and the rows below that it covers (rowspan) hold an empty stand-in at its place
    (`RawCell.above`: a value merged over two rows must not read as blank in the second)."""
    _clean_cells(table)
    occupied: set[tuple[int, int]] = set()
    trs = [tr for tr in table.iter("tr") if tr.getparent() is not None]
    placed: list[list[tuple[int, RawCell]]] = [[] for _ in trs]
    for r, tr in enumerate(trs):
        col = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                continue
            while (r, col) in occupied:
                col += 1
            colspan = _span(td.get("colspan"))
            rowspan = min(_span(td.get("rowspan")), len(trs) - r)
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied.add((r + dr, col + dc))
            cell = RawCell(cell_text(td), float(col), float(col + colspan), rows=rowspan)
            placed[r].append((col, cell))
            for dr in range(1, rowspan):
                placed[r + dr].append((col, RawCell("", float(col), float(col + colspan), above=cell)))
            col += colspan
    rows = [RawRow(cells=without_bare_stand_ins([c for _, c in sorted(p, key=lambda pc: pc[0])]), index=r)
            for r, p in enumerate(placed)]
    return RawTable(rows=rows, index=index, locator=f"table[{index}]")


def _span(value: str | None) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), 100)
