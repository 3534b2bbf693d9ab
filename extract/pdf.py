"""PDF reports through pdfminer.six, without its layout analysis (not needed, and it
doubles the cost): characters and ruling lines are collected per page, then

    chars + rulings → bands (between horizontal rulings) → cells (between the vertical
    rulings that cross a band) → rows

so merged cells, wrapped labels and blank cells come out as in HTML. Pages without
rulings fall back to text positions: chars → lines → fragments split at wide gaps.
A PDF whose pages carry no characters at all is a scan: read by OCR (`image.py`) when it
is installed and on, else `NoTextLayer`.
"""

from __future__ import annotations

import bisect
import logging
import operator
import re
import time
from io import BytesIO
from pathlib import Path

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTCurve, LTFigure, LTLine, LTRect
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSException

from . import image
from .errors import DocumentUnreadable, LimitExceeded, NoTextLayer, UnsupportedDocument
from .models import DIGITS_APART, ExtractSettings, RawCell, RawDocument, RawRow, RawTable, snap
from .pdfstream import FastPDFPageInterpreter

logger = logging.getLogger(__name__)

DEFAULT_SNAP = 1.5
"""Rulings closer than this (points) are the same line."""
DEFAULT_MIN_BAND = 3.0
"""Bands thinner than this (double borders) hold no row."""
THIN = 2.5
"""A rect thinner than this is a ruling line rather than a box."""


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    settings = ExtractSettings.resolve(settings)
    data = path.read_bytes() if data is None else data
    if settings.pdf_engine == "pdfium":
        from . import pdfium

        got = pdfium.read_pages(path, settings, data)
        if not isinstance(got, str):
            return got
        logger.info("%s: read with pdfminer.six: %s", path, got)
    try:
        parser = PDFParser(BytesIO(data))
        document = PDFDocument(parser)
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise UnsupportedDocument(path, f"encrypted PDF needs a password ({type(exc).__name__})") from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentUnreadable(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not document.is_extractable:
        logger.info("%s: PDF forbids extraction; reading it anyway for public-record use", path)
    try:
        n_pages = int(resolve1(resolve1(document.catalog["Pages"])["Count"]))
    except Exception:
        n_pages = None
    if n_pages is not None and n_pages > settings.max_pages:
        raise LimitExceeded(path, f"{n_pages} pages exceeds max_pages={settings.max_pages}")

    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=None)
    interpreter = FastPDFPageInterpreter(rsrc, device)
    tables: list[RawTable] = []
    page_texts: list[str] = []
    n_chars = 0
    n_cid = 0
    pageno = 0
    try:
        started = time.monotonic()
        for pageno, page in enumerate(PDFPage.create_pages(document), start=1):
            if pageno > settings.max_pages:
                raise LimitExceeded(path, f"more than max_pages={settings.max_pages} pages")
            if time.monotonic() - started > settings.max_seconds:
                raise LimitExceeded(path, f"still reading after max_seconds={settings.max_seconds:g} s "
                                          f"(gave up at page {pageno})")
            interpreter.process_page(page)
            layout = device.get_result()
            chars, hsegs, vsegs = _collect(layout)
            n_chars += len(chars)
            n_cid += sum(1 for c in chars if c[4].startswith("(cid:"))
            rows = page_to_rows(chars, hsegs, vsegs, pageno)
            tables.append(RawTable(rows=rows, index=pageno - 1, page=pageno, locator=f"page {pageno}"))
            page_texts.append("\n".join(r.text("\t") for r in rows))
    except (LimitExceeded, UnsupportedDocument):
        raise
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError) as exc:
        raise DocumentUnreadable(path, f"PDF broken at page {pageno + 1} ({type(exc).__name__}: {exc})") from exc
    except RecursionError as exc:
        raise DocumentUnreadable(path, "PDF object structure nested too deeply") from exc
    if pageno == 0:
        raise DocumentUnreadable(path, "PDF has no pages")
    if n_chars == 0:
        why = image.why_no_ocr(settings)
        if why is None:
            return image.read_scanned_pdf(path, data, pageno, settings)
        raise NoTextLayer(path, why)
    if n_cid > n_chars * 0.5:
        raise UnsupportedDocument(path, "text layer not decodable (CID font without a Unicode map)")
    return RawDocument(path=path, format="pdf", text="\n\f".join(page_texts), tables=tables, pages=pageno)



# --- page objects → chars and ruling segments -------------------------------------------

Char = tuple  # (x0, x1, y0, y1, text, size)


def _collect(layout) -> tuple[list[Char], list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    chars: list[Char] = []
    hsegs: list[tuple[float, float, float]] = []  # (y, x0, x1)
    vsegs: list[tuple[float, float, float]] = []  # (x, y0, y1)
    stack = list(layout)
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTChar):
            t = obj.get_text()
            if t.strip():
                chars.append(char(obj.x0, obj.x1, obj.y0, obj.y1, t, obj.size))
        elif isinstance(obj, (LTRect, LTLine, LTCurve)):
            add_ruling(obj.x0, obj.y0, obj.x1, obj.y1, isinstance(obj, LTRect), hsegs, vsegs)
        elif isinstance(obj, LTFigure):
            stack.extend(obj)
    return chars, hsegs, vsegs


DECIMALS = 3
"""Coordinates are kept to a thousandth of a point: both readers (pdfminer computes in
double precision, PDFium in single) then give equal numbers, and a comparison that falls
exactly on a threshold (the generator's layouts do) goes the same way in both."""


def char(x0: float, x1: float, y0: float, y1: float, text: str, size: float) -> Char:
    return (round(x0, DECIMALS), round(x1, DECIMALS), round(y0, DECIMALS), round(y1, DECIMALS), text,
            round(size, DECIMALS))


def add_ruling(x0: float, y0: float, x1: float, y1: float, is_rect: bool, hsegs: list, vsegs: list) -> None:
    """A painted path's ruling segments, from its bounding box: a thin path is one ruling,
    a rectangle (`is_rect`, pdfminer's `LTRect`) its four edges, any other shape none."""
    x0, y0, x1, y1 = round(x0, DECIMALS), round(y0, DECIMALS), round(x1, DECIMALS), round(y1, DECIMALS)
    w, h = x1 - x0, y1 - y0
    if h <= THIN and w > THIN:
        hsegs.append(((y0 + y1) / 2, x0, x1))
    elif w <= THIN and h > THIN:
        vsegs.append(((x0 + x1) / 2, y0, y1))
    elif is_rect and w > THIN and h > THIN:
        hsegs += [(y0, x0, x1), (y1, x0, x1)]
        vsegs += [(x0, y0, y1), (x1, y0, y1)]


def close_page_breaks(hsegs: list, vsegs: list, spans: RulingSpans | None = None) -> list:
    """`hsegs` with a ruling added where two or more vertical rulings end at one height
    with no horizontal ruling there: a table a browser broke across pages (Chromium,
    `border-collapse`) leaves the first row of the next page without its top rule, and
    that row would fall out of the table as free text. `spans`: `hsegs`' (made if not given)."""
    spans = RulingSpans(hsegs) if spans is None else spans
    ends_at: dict[float, list[float]] = {}  # the ends of a table's vertical rulings share a few heights
    for x, y0, y1 in vsegs:
        for y in (y0, y1):
            got = ends_at.get(y)
            if got is None:
                ends_at[y] = [x]
            else:
                got.append(x)
    open_ends: list[tuple[float, float]] = []
    bisect_right = bisect.bisect_right
    for y, xs in ends_at.items():
        starts, ends = spans.near(y)
        i = bisect_right(starts, min(xs)) - 1
        if i >= 0 and max(xs) <= ends[i]:  # every end at this height lies in one span: covered
            continue
        for x in xs:
            i = bisect_right(starts, x) - 1
            if i < 0 or ends[i] < x:  # no horizontal ruling near (x, y)
                open_ends.append((y, x))
    added: list = []
    open_ends.sort()
    k = 0
    while k < len(open_ends):
        group = [open_ends[k]]
        while k + len(group) < len(open_ends) and open_ends[k + len(group)][0] - group[0][0] <= DEFAULT_SNAP:
            group.append(open_ends[k + len(group)])
        if len(group) >= 2:
            xs = [x for _, x in group]
            added.append((group[0][0], min(xs), max(xs)))
        k += len(group)
    return hsegs + added if added else hsegs


class RulingSpans:
    """The horizontal rulings of a page, sorted once, and `_spans` of those within
    `DEFAULT_SNAP` of a height (`near`), computed once per set of rulings found there: the
    vertical rulings' ends (`close_page_breaks`) and the bands' bottoms (`merge_down`) of a
    table fall at a few heights, a cell's border and its neighbour's a fraction of a point
    apart."""

    __slots__ = ("_cache", "keys", "ys")

    def __init__(self, hsegs: list):
        self.ys = sorted(hsegs)
        self.keys = [h[0] for h in self.ys]
        self._cache: dict[tuple[int, int], tuple[list[float], list[float]]] = {}

    def near(self, y: float) -> tuple[list[float], list[float]]:
        lo = bisect.bisect_left(self.keys, y - DEFAULT_SNAP)
        hi = bisect.bisect_right(self.keys, y + DEFAULT_SNAP)
        got = self._cache.get((lo, hi))
        if got is None:
            got = self._cache[lo, hi] = _spans(self.ys[lo:hi])
        return got


def _spans(near: list) -> tuple[list[float], list[float]]:
    """The x spans the horizontal rulings `near` reach (each `x0 - DEFAULT_SNAP` to
    `x1 + DEFAULT_SNAP`), overlapping ones merged: (starts, ends), sorted; x is within a
    ruling's span exactly when the last span starting at or before x ends at or after it."""
    starts: list[float] = []
    ends: list[float] = []
    for lo, hi in sorted((x0 - DEFAULT_SNAP, x1 + DEFAULT_SNAP) for _, x0, x1 in near):
        if lo > hi:
            continue
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def page_to_rows(chars: list[Char], hsegs, vsegs, pageno: int) -> list[RawRow]:
    """Rows of a page, top to bottom: ruled table rows and free text lines."""
    spans = RulingSpans(hsegs)
    closed = close_page_breaks(hsegs, vsegs, spans)
    if closed is not hsegs:  # a ruling added: the spans again
        hsegs, spans = closed, RulingSpans(closed)
    bands = _bands(hsegs, vsegs)
    band_bottoms = [b[0] for b in bands]

    cells: dict[tuple[int, int], list[Char]] = {}
    free: list[Char] = []
    bisect_right = bisect.bisect_right
    for ch in chars:
        cy = (ch[2] + ch[3]) / 2
        i = bisect_right(band_bottoms, cy) - 1
        if i >= 0:
            _, top, xs = bands[i]
            if cy < top:
                j = bisect_right(xs, (ch[0] + ch[1]) / 2) - 1
                if 0 <= j < len(xs) - 1:
                    got = cells.get((i, j))
                    if got is None:
                        cells[i, j] = [ch]
                    else:
                        got.append(ch)
                    continue
        free.append(ch)

    placed: list[tuple[float, RawRow]] = []
    built = []
    for _, _, xs in bands:
        row_cells = []
        left = xs[0]
        for j in range(len(xs) - 1):
            right = xs[j + 1]
            got = cells.get((len(built), j))
            row_cells.append(RawCell(_join(got, right - left) if got else "", left, right))
            left = right
        built.append(row_cells)
    if len(bands) > 1:
        merge_down(built, bands, spans)
    for (bottom, top, xs), row_cells in zip(bands, built):
        if len(row_cells) >= 2 or any(c.text for c in row_cells):  # a ruled row of blank cells is a row
            placed.append((top, RawRow(cells=row_cells, page=pageno)))
    for line in _lines(free):
        placed.append((max(map(_y1, line)), RawRow(cells=_fragments(line), page=pageno)))
    placed.sort(key=lambda t: -t[0])
    rows = [r for _, r in placed]
    for k, r in enumerate(rows):
        r.index = k
    return rows


_VALUE = re.compile(r"[\d.,，\-—–/ ]+")
"""What a merged value cell holds (digits, separators, a dash): never a label."""


def merge_down(built: list[list[RawCell]], bands: list, spans: RulingSpans) -> None:
    """A value cell merged over ruled rows (a rowspan, printed: no horizontal ruling under
    it between the rows, the cells beside it ruled) holds its text in the one band its
    centre fell in, and the cells of the other rows read as blank: the text goes to the
    top row's cell, `rows` counting the rows, and the others become its stand-ins
    (`RawCell.above`), as HTML and DOCX readers give them. Only when exactly one cell of
    the run holds text, and a value's (a label merged over rows stays as it was read).
    `spans`: the page's horizontal rulings (`RulingSpans`)."""
    below: dict[tuple[int, int], tuple[int, int]] = {}
    for i in range(len(bands) - 1):
        (_, low_top, low_xs), (up_bottom, _, up_xs) = bands[i], bands[i + 1]
        if abs(low_top - up_bottom) > DEFAULT_SNAP:
            continue
        starts, ends = spans.near(up_bottom)
        for j in range(len(up_xs) - 1):
            a, b = up_xs[j], up_xs[j + 1]
            s = bisect.bisect_right(starts, (a + b) / 2) - 1
            if s >= 0 and ends[s] >= (a + b) / 2:
                continue  # ruled between the rows (nearly always)
            k = next((k for k in range(len(low_xs) - 1)
                      if abs(low_xs[k] - a) <= DEFAULT_SNAP and abs(low_xs[k + 1] - b) <= DEFAULT_SNAP), None)
            if k is not None:
                below[(i + 1, j)] = (i, k)
    lower = set(below.values())
    for head in [key for key in below if key not in lower]:  # the top cell of each run
        run = [head]
        while run[-1] in below:
            run.append(below[run[-1]])
        texts = [built[i][j] for i, j in run if built[i][j].text]
        if len(texts) != 1 or not _VALUE.fullmatch(texts[0].text):
            continue
        top = built[head[0]][head[1]]
        top.text, top.rows = texts[0].text, len(run)
        for i, j in run[1:]:
            built[i][j] = RawCell("", built[i][j].x0, built[i][j].x1, above=top)


def _bands(hsegs, vsegs) -> list[tuple[float, float, list[float]]]:
    """(bottom, top, cell edges) of the bands between horizontal rulings that vertical
    rulings reaching across them close left and right. A vertical ruling reaches across
    the bands whose bottom (+1.5) is above its lower end and whose top (-1.5) is below
    its upper end: both bounds grow with the band, so the bands it crosses are one run,
    found by bisection (not every ruling tested against every band)."""
    ys = snap([s[0] for s in hsegs], DEFAULT_SNAP)
    spans = [(bottom, top) for bottom, top in zip(ys, ys[1:]) if top - bottom >= DEFAULT_MIN_BAND]
    lows = [(bottom + 1.0) + 0.5 for bottom, _ in spans]
    highs = [(top - 1.0) - 0.5 for _, top in spans]
    crossing: list[list[float]] = [[] for _ in spans]
    for x, y0, y1 in vsegs:
        for i in range(bisect.bisect_left(lows, y0), bisect.bisect_right(highs, y1)):
            crossing[i].append(x)
    bands = []
    for (bottom, top), xs in zip(spans, crossing):
        xs = snap(xs, DEFAULT_SNAP)
        if len(xs) >= 2:
            bands.append((bottom, top, xs))
    return bands


_x0 = operator.itemgetter(0)
"""A char's left edge (its sort key along a line)."""
_y1 = operator.itemgetter(3)


def _lines(chars: list[Char]) -> list[list[Char]]:
    """Group chars into text lines by vertical overlap, each sorted left to right. Chars
    on one baseline (most cells: the same y0 + y1, so the same centre) are one line, sorted
    left to right, as the loop below would make them (a stable sort by centre, then x0)."""
    if len(chars) <= 1:
        return [list(chars)] if chars else []
    mid = chars[0][2] + chars[0][3]
    for ch in chars:
        if ch[2] + ch[3] != mid:
            break
    else:
        return [sorted(chars, key=_x0)]
    lines: list[list[Char]] = []
    last: list[Char] = []
    total = 0.0  # the sum of the last line's centres, added in order (as `sum` would)
    count = 0  # and their number
    ordered = sorted(chars, key=_x0)
    ordered.sort(key=_lower_centre)  # stable: by centre, top first, then left to right
    for ch in ordered:
        cy = (ch[2] + ch[3]) / 2
        size = ch[5]
        if count and abs(cy - total / count) <= (1.0 if 1.0 > size else size) * 0.4:  # `max(size, 1.0)`
            last.append(ch)
            total += cy
            count += 1
            continue
        last = [ch]
        lines.append(last)
        total = 0.0 + cy
        count = 1
    for line in lines:
        line.sort(key=_x0)
    return lines


def _lower_centre(c: Char) -> float:
    """Twice the centre's height, negated: sorts as the centre does, top first."""
    return -(c[2] + c[3])


WRAP_FILL = 0.7
"""A line of digits was wrapped (the next character did not fit) when it and the next
line's first character fill more than this share of the cell's width (the rest is the
cell's padding, which varies by producer)."""


def _join(chars: list[Char], width: float | None = None) -> str:
    """A cell's text: its lines top to bottom, joined without a gap (wrapped labels). Digits
    on both sides of a line break are one number only when the line was full (the number
    wrapped in a narrow cell of `width`); otherwise (`12` over `3`: two numbers, say, under
    a missing ruling) they keep a space, and the number parser flags the cell instead of
    guessing which."""
    if len(chars) <= 1:
        return chars[0][4].strip() if chars else ""
    return _join_lines(_lines(chars), width)


def _join_lines(lines: list[list[Char]], width: float | None = None) -> str:
    """`_join` of a cell's characters grouped into `lines` (`_lines`)."""
    out = _line_text(lines[0])
    for prev, line in zip(lines, lines[1:]):
        text = _line_text(line)
        if out[-1:].isdigit() and text[:1].isdigit():
            needed = (prev[-1][1] - prev[0][0]) + (line[0][1] - line[0][0])
            wrapped = width is not None and needed > WRAP_FILL * width
            out += text if wrapped else " " + text
        else:
            out += text
    return out.strip()


SIZE_STEP = 0.9
"""A digit under this share of its neighbour's size stands apart: Word prints a superscript
at 2/3 of the size, a browser at 5/6 (`font-size: smaller`)."""
RAISED = 0.25
"""...and so does a digit whose bottom is this share of the size above or below its
neighbour's (a raised footnote mark printed at the same size)."""


DIGIT_SPACE = 0.15
"""...and so does a digit this share of the size or more after another: a space (`2 629`,
`2024-03-08 15:34`), which LibreOffice and Chromium print as a gap without a glyph (a
space glyph is dropped anyway). The digits of one number sit at most 0.005 of the size
apart (every PDF of the repository and 120 generated LibreOffice and Chromium ones, both
engines); a space is 0.22–0.25 of it. Read joined, `2 629` passed as 2629 in an `ok` report:
apart, the number parser flags it (or the identities confirm it: `place.join_apart_digits`)."""


def _apart(prev: Char, c: Char) -> bool:
    """Two digits side by side that are not one number: one smaller, raised/lowered, or a
    space apart."""
    big = max(c[5], prev[5])
    return (min(c[5], prev[5]) < SIZE_STEP * big or abs(c[2] - prev[2]) > RAISED * big
            or c[0] - prev[1] > DIGIT_SPACE * big)


def _line_text(line: list[Char]) -> str:
    """A line's characters, with a space at wide gaps and where a digit changes size next to
    another or sits higher (`12` with a small raised `1` is a footnote mark, not 121)."""
    if len(line) == 1:
        return line[0][4]
    prev = line[0]
    buf = [prev[4]]
    for c in line[1:]:  # `max(size, 1.0)` written out: it runs per char
        size = c[5]
        if c[0] - prev[1] > (1.0 if 1.0 > size else size) * 0.5 or (
                c[4].isdigit() and prev[4].isdigit() and _apart(prev, c)):
            buf.append(" ")
        buf.append(c[4])
        prev = c
    return "".join(buf)


def _fragments(line: list[Char]) -> list[RawCell]:
    """Split an unruled text line into cells at gaps wider than one character."""
    cells: list[RawCell] = []
    start = 0
    n = len(line)
    for k in range(1, n + 1):
        if k < n:
            c, prev = line[k], line[k - 1]
            size, gap = c[5], c[0] - prev[1]
            wide = 1.0 if 1.0 > size else size  # `max(size, 1.0)` written out
            if not (gap > wide * 1.0 or (gap > DIGITS_APART * wide and prev[4].isdigit() and c[4].isdigit())):
                continue  # (`digits_apart` written out: numbers touching)
        part = line[start:k]
        # the whole line is one line (`_lines` of the same characters groups them the same
        # way: the same order, the same running centres); a part of it is grouped again
        text = _join_lines([part]) if k - start == n else _join(part)
        cells.append(RawCell(text, part[0][0], part[-1][1]))
        start = k
    return cells
