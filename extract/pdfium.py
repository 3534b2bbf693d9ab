"""PDF reports through PDFium (pypdfium2): the same characters and ruling segments as
`extract.pdf` collects through pdfminer.six, 2.9–3.5× faster on the whole path (1.7–2.2×
the floor of PDFium's own calls: README, *Speed*), then the same `page_to_rows`.
Everything after the seam (bands, cells, rows) is shared.

    PDFium text page   → chars (x0, x1, y0, y1, text, size) as pdfminer's `LTChar`s
    PDFium path objects → subpaths (end points only, like pdfminer) → ruling segments

Coordinates are put in pdfminer's frame: the page's MediaBox moved to the origin and its
/Rotate applied. A char's box is pdfminer's: across by PDFium's advance (its loose box),
up from the baseline plus the font's descent by the font size, both scaled by the text
matrix; its size, like pdfminer's, the box's height in that frame.

PDFium reads only what it can read exactly like pdfminer. `read_pages` returns a reason
instead of a document (and the caller reads the file with pdfminer) when PDFium cannot
open the file, finds no pages or no characters (a scan: pdfminer raises `NoTextLayer`), a
character without a Unicode mapping (pdfminer keeps `(cid:N)`), a font neither embedded
nor standard (PDFium would measure a substitute), a text object its text page left out (a
copy drawn over itself, which PDFium de-duplicates and pdfminer does not), or a stream
that inflates like a decompression bomb (PDFium aborts where pdfminer raises MemoryError),
or a font descriptor whose /Descent has a fraction (PDFium truncates it to an integer),
font descriptors whose descent PDFium replaces for some fonts and not others (`_descents`),
an embedded font under a standard font's name (pdfminer measures it by the AFM metrics),
or a character outside Unicode's basic plane (PDFium counts it as two), or a Type 3 font
(PDFium boxes its glyphs by their ink).

The descent is pdfminer's: the descriptor's /Descent, which PDFium gives too unless it
replaces it (both /Ascent and /Descent 0, as LibreOffice writes every descriptor: PDFium
measures the glyph 'g', up to 0.18 em lower). When every embedded font's descriptor is at
0 the reader takes 0 (`_descents` on the file's bytes, `zero_descent`); a standard font's
is its AFM metrics' (`pdfminer.fontmetrics`), where PDFium measures its own substitute.

Why a font that is not embedded goes to pdfminer (measured on the generator's reportlab
PDFs: STSong-Light, Type0/CIDFontType0, UniGB-UCS2-H, /W widths, no font file). PDFium
maps every character to Unicode through the CMap (no `HasUnicodeMapError`), and places
its origin where pdfminer's box starts (all 11,316 characters of 8 documents, to 0.002 pt),
but its loose box is as wide as the *substituted system font's* advance (here WenQuanYi
Micro Hei: `0` 504, `2` 492, `8` 500 per mille against the /W array's 462; CJK ideographs
agree at 1000), so right edges, gaps and the line-splitting and wrapped-number thresholds
depend on which fonts the machine has installed; without a CJK font a character printed
alone can vanish from the text page altogether. The declared width is reachable
(`FPDFFont_GetGlyphWidth(font, unicode, size)` returns the /W width, 462): origin + that
width × the matrix's `a` gives pdfminer's box exactly for 13,853 of 14,046 characters of
10 documents; the others inspected differ by 0.001 pt after rounding to `DECIMALS` (PDFium
accumulates positions along a text run in single precision). Below every threshold, but
not identical characters at the seam, and it leaves horizontal scaling (Tz) and codes
with several Unicode mappings unverified: not done; pdfminer reads these documents.
"""

from __future__ import annotations

import ctypes
import logging
import math
import re
import struct
import threading
import time
import zlib
from array import array
from bisect import bisect_right
from collections import deque
from itertools import repeat
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as c
from pdfminer.fontmetrics import FONT_METRICS

from .errors import LimitExceeded
from .models import ExtractSettings, RawDocument, RawTable
from .pdf import DECIMALS, Char, add_ruling, char, page_to_rows

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
"""PDFium is not thread-safe: one document at a time per process."""

Matrix = tuple[float, float, float, float, float, float]


def _by_address(fn, restype, *argtypes):
    """`fn` with PDFium handles passed and returned as plain addresses (ints): a page's
    objects and segments are walked by the thousand, and ctypes converts an int faster than
    a typed pointer (and compares it without a `ctypes.cast`). Called holding the GIL
    (`PYFUNCTYPE`, 13% less per call than releasing and taking it again): each of these
    returns in a fraction of a microsecond, PDFium runs one document at a time anyway
    (`_LOCK`), and the long calls (loading a page, its text page) go through pypdfium2,
    which releases it."""
    return ctypes.PYFUNCTYPE(restype, *argtypes)(ctypes.cast(fn, ctypes.c_void_p).value)


_P, _I, _F = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)
_text_object_at = _by_address(c.FPDFText_GetTextObject, _P, _P, _I)
_unicode_error = _by_address(c.FPDFText_HasUnicodeMapError, _I, _P, _I)
_loose_box = _by_address(c.FPDFText_GetLooseCharBox, _I, _P, _I, _P)  # into an FS_RECTF by address
_char_origin = _by_address(c.FPDFText_GetCharOrigin, _I, _P, _I, ctypes.POINTER(ctypes.c_double),
                           ctypes.POINTER(ctypes.c_double))
_page_object_at = _by_address(c.FPDFPage_GetObject, _P, _P, _I)
_object_type = _by_address(c.FPDFPageObj_GetType, _I, _P)
_object_matrix = _by_address(c.FPDFPageObj_GetMatrix, _I, _P, _P)  # into an FS_MATRIX by address
_object_bounds = _by_address(c.FPDFPageObj_GetBounds, _I, _P, _F, _F, _F, _F)
_form_count = _by_address(c.FPDFFormObj_CountObjects, _I, _P)
_form_object_at = _by_address(c.FPDFFormObj_GetObject, _P, _P, ctypes.c_ulong)
_segment_count = _by_address(c.FPDFPath_CountSegments, _I, _P)
_segment_at = _by_address(c.FPDFPath_GetPathSegment, _P, _P, _I)
_segment_point = _by_address(c.FPDFPathSegment_GetPoint, _I, _P, _P, _P)  # into two floats by address
_segment_type = _by_address(c.FPDFPathSegment_GetType, _I, _P)
_segment_closes = _by_address(c.FPDFPathSegment_GetClose, _I, _P)
_text_font = _by_address(c.FPDFTextObj_GetFont, _P, _P)
_font_embedded = _by_address(c.FPDFFont_GetIsEmbedded, _I, _P)
_font_data = _by_address(c.FPDFFont_GetFontData, _I, _P, _P, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t))
_font_descent = _by_address(c.FPDFFont_GetDescent, _I, _P, ctypes.c_float, _F)
_text_matrix = _by_address(c.FPDFText_GetMatrix, _I, _P, _I, _P)  # into an FS_MATRIX by address
_unpack_matrix = struct.Struct("6f").unpack  # a, b, c, d, e, f
_unpack_box = struct.Struct("4f").unpack_from  # FS_RECTF: left, top, right, bottom
_font_size = _by_address(c.FPDFText_GetFontSize, ctypes.c_double, _P, _I)
_object_text = _by_address(c.FPDFTextObj_GetText, ctypes.c_ulong, _P, _P, _P, ctypes.c_ulong)
_glyph_width = _by_address(c.FPDFFont_GetGlyphWidth, _I, _P, ctypes.c_uint32, ctypes.c_float, _F)


def read_pages(path: Path, settings: ExtractSettings, data: bytes) -> RawDocument | str:
    """The document read through PDFium, or the reason pdfminer must read it."""
    if _inflates_like_a_bomb(data):
        return "a stream inflates over 100-fold (a decompression bomb?)"
    streams = list(_object_streams(data))  # inflated once for both checks below
    if _fractional_descent(data, streams):
        return "a font descriptor with a fractional /Descent (PDFium truncates it)"
    descents = _descents(data, streams)
    if isinstance(descents, str):
        return descents
    with _LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            return f"PDFium cannot open it ({exc})"
        try:
            return _read(path, settings, pdf, descents)
        except LimitExceeded:
            raise
        except Exception as exc:  # a bug here must cost speed, never a document: pdfminer reads it
            logger.warning("%s: the PDFium reader failed (%s: %s)", path, type(exc).__name__, exc)
            return f"the PDFium reader failed ({type(exc).__name__})"
        finally:
            pdf.close()


_STREAM = re.compile(rb"stream\r?\n")
BOMB_RATIO = 100
"""A stream whose first KB inflates to more than this many times their size is handed
to pdfminer: PDFium aborts its process when an allocation fails (a decompression bomb
under the reader's memory limit), where pdfminer raises MemoryError and the document
is quarantined naming the limit. Text, fonts and images inflate 2–20-fold."""


_DESCENT = re.compile(rb"/Descent\s*([-+]?\d*\.\d*[1-9])")
_STREAM_KEYWORD = re.compile(rb"\s*stream\r?\n")
OBJECT_STREAM_DICT = 4096
"""Bytes between an object stream's /ObjStm and the end of its dictionary, at most."""
OBJECT_STREAM_MAX = 1 << 22
"""Bytes of an object stream searched for font descriptors (objects streams hold small
dictionaries; a longer one is searched as far as this)."""
OBJECT_STREAMS_MAX = 4096
OBJECT_STREAMS_INFLATED = 1 << 26
"""Object streams, and bytes inflated from them, the checks on a file's bytes read at most:
past either the file goes to pdfminer (a real report has a few dozen; 2.6 million empty
ones, 45 MB, kept PDFium's checks busy past the time limit)."""


def _zlib_header(head: bytes) -> bool:
    """Whether `head` opens like zlib data (RFC 1950: deflate, and the two header bytes a
    multiple of 31), as zlib checks before anything else."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


def _fractional_descent(data: bytes, streams: list | None = None) -> bool:
    """Whether a font descriptor gives /Descent with a fraction (reportlab writes
    -240.2344 for an embedded TrueType font): PDFium reads it as an integer (-240), pdfminer
    as written, and the boxes below the baseline differ by up to 0.0005 em, enough to
    move two lines of different sizes across the line-grouping threshold (1 of 260
    generated documents). Found in the file's bytes and in its object streams (`streams`:
    `_object_streams` of `data`, made if not given)."""
    if _DESCENT.search(data):
        return True
    streams = _object_streams(data) if streams is None else streams
    return any(out is not None and _DESCENT.search(out) for _, _, out in streams)


def _object_streams(data: bytes):
    """(where its dictionary starts, where it ends, its data inflated or None where zlib
    cannot) of each object stream (an `/ObjStm` with the end of its dictionary, `>>`, and
    `stream` within `OBJECT_STREAM_DICT` bytes; None for the dictionary's bounds of one that
    is not so: a dictionary nested in it, a crafted file). Linear: the `>>` after an
    `/ObjStm` is looked for once for all the `/ObjStm` before it, and a stream's data
    inflated from a view (no copy), as far as `OBJECT_STREAM_MAX`."""
    view = memoryview(data)
    i = data.find(b"/ObjStm")
    close, at = -1, None
    count = inflated = 0
    while i >= 0:
        if close < i:
            count += 1
            if count > OBJECT_STREAMS_MAX or inflated > OBJECT_STREAMS_INFLATED:  # a crafted file: not read
                yield None, None, None
                return
            close = data.find(b">>", i)
            if close < 0:
                yield None, None, None
                return
            m = _STREAM_KEYWORD.match(data, close + 2)
            at = m.end() if m else None
            if at is None or close - i > OBJECT_STREAM_DICT:
                yield None, None, None
            else:
                opened = data.rfind(b"<<", max(0, i - OBJECT_STREAM_DICT), i)
                try:
                    out = zlib.decompressobj().decompress(view[at:at + OBJECT_STREAM_MAX], OBJECT_STREAM_MAX)
                except zlib.error:
                    out = None
                inflated += len(out) if out else 0
                yield (opened if opened >= 0 else i), close, out
        i = data.find(b"/ObjStm", close)


_NUMBER = rb"([-+]?(?:\d+\.?\d*|\.\d+))(?![\d.])(?!\s+\d+\s+R\b)"  # a direct number, not a reference
_ASCENT = re.compile(rb"/Ascent\s*" + _NUMBER)
_DESCENT_VALUE = re.compile(rb"/Descent\s*" + _NUMBER)
_FONT_BBOX = re.compile(rb"/FontBBox\s*\[\s*" + rb"\s*".join([_NUMBER] * 4) + rb"\s*\]")
_OBJECT_HEAD = re.compile(rb"\d+\s+\d+\s+obj\Z")
_FIRST = re.compile(rb"/First\s+(\d+)")
OBJECT_MAX = 1 << 15
"""Bytes searched on either side of a font file's key for the object holding it (a font
descriptor: a few hundred bytes, with a subset's /CharSet a few thousand)."""
DESCRIPTORS_MAX = 2000
"""Font descriptors checked; a file with more goes to pdfminer (bounded work on a crafted file)."""

UNREAD_DESCRIPTOR = "a font descriptor the descent check cannot read (PDFium's descent may differ)"
ZERO_BBOX = "a font descriptor whose /FontBBox is missing or all 0 (PDFium takes the font program's descent)"
SMALL_DESCENT = "a font descriptor with a /Descent from 1 to 10 (PDFium keeps it positive, pdfminer negates it)"
MIXED_DESCENT = ("font descriptors with and without /Ascent and /Descent "
                 "(PDFium measures the glyph 'g' for some fonts: which ones is not told)")


_ESCAPE = re.compile(rb"#[0-9A-Fa-f]{2}")
_NAME_END = re.compile(rb"[\x00\t\n\f\r ()<>\[\]{}/%]")
CHECKED_NAMES = frozenset({b"Ascent", b"Descent", b"FontBBox", b"FontFile", b"FontFile2", b"FontFile3",
                           b"ObjStm", b"First"})
"""The keys the checks on a file's bytes look for as written."""
ESCAPED_NAME = "a key the descent check reads written with # escapes (it reads names as written)"


def _escaped_key(data: bytes) -> bool:
    """Whether a name `CHECKED_NAMES` holds is written with `#xx` escapes (`/D#65scent`):
    PDFium and pdfminer read it as the key, the checks on the bytes would not see it."""
    for m in _ESCAPE.finditer(data):
        start = data.rfind(b"/", max(0, m.start() - 127), m.start())
        if start < 0 or _NAME_END.search(data, start + 1, m.start()):
            continue  # not in a name
        end = _NAME_END.search(data, m.end())
        raw = data[start + 1:end.start() if end else len(data)]
        if _ESCAPE.sub(lambda e: bytes([int(e[0][1:], 16)]), raw) in CHECKED_NAMES:
            return True
    return False


def _descents(data: bytes, streams: list | None = None) -> bool | str:
    """Whether PDFium's descent is pdfminer's for every embedded font (False), is not but
    pdfminer's is 0 for every one (True: `_chars` then takes 0), or the reason pdfminer
    must read the file. pdfminer takes a font's descent from its descriptor's /Descent (0
    when absent; negated when positive); PDFium too (truncated: `_fractional_descent`),
    but replaces it with the bottom of the glyph 'g' (or the /FontBBox's) when /Ascent and
    /Descent are both 0 (as integers, or absent), with the font program's own descender
    when the /FontBBox is absent or all 0, and keeps a /Descent from 1 to 10 positive
    (CPDF_Font::LoadFontDescriptor, CheckFontMetrics). LibreOffice writes /Ascent 0
    /Descent 0 in every descriptor: PDFium's boxes were up to 0.18 em lower on 95% of the
    characters of its PDFs. The descriptors that count are the embedded fonts' (a standard
    font's descent is pdfminer's AFM value: `_font_facts`; other fonts are refused),
    found by their /FontFile, /FontFile2 or /FontFile3 key, each in its object (`N G obj`
    to `endobj`, or an object stream's object by its offset): in the file's bytes and its
    object streams (`streams`: `_object_streams` of `data`, made if not given), no parse,
    bounded work."""
    if _escaped_key(data):
        return ESCAPED_NAME
    kinds = set()
    n = 0
    for obj in _font_file_objects(data, _object_streams(data) if streams is None else streams):
        if obj is ESCAPED_NAME:
            return ESCAPED_NAME
        n += 1
        if obj is None or n > DESCRIPTORS_MAX:
            return UNREAD_DESCRIPTOR
        kind = _descriptor_kind(obj)
        if kind not in (True, False):
            return kind
        kinds.add(kind)
    if len(kinds) > 1:
        return MIXED_DESCENT
    return kinds == {True}


def _descriptor_kind(obj: bytes) -> bool | str:
    """For one descriptor's object: False when PDFium's descent is its /Descent, True when
    /Ascent and /Descent are both 0 (or absent: PDFium measures 'g', pdfminer says 0), or
    the reason PDFium's may differ otherwise."""
    values = []
    for key, rx in ((b"/Ascent", _ASCENT), (b"/Descent", _DESCENT_VALUE), (b"/FontBBox", _FONT_BBOX)):
        k = obj.count(key)
        if k > 1:  # a descriptor nested in another (/FD), or two objects in one
            return UNREAD_DESCRIPTOR
        m = rx.search(obj) if k else None
        if k and m is None:  # an indirect value, or not a number
            return UNREAD_DESCRIPTOR
        values.append(m and m.groups())
    ascent, descent, bbox = values
    a = float(ascent[0]) if ascent else 0.0
    d = float(descent[0]) if descent else 0.0
    if int(a) == 0 and int(d) == 0:  # whatever PDFium measures instead, pdfminer says 0
        return True if d == 0 else UNREAD_DESCRIPTOR  # (a fraction of 1 went to pdfminer before)
    if bbox is None or all(int(float(v)) == 0 for v in bbox):
        return ZERO_BBOX
    if 0 < int(d) <= 10:
        return SMALL_DESCENT
    return False


def _font_file_objects(data: bytes, streams):
    """The object around each /FontFile key (the font descriptor of an embedded font), or
    None for one whose bounds are not found near it: in the file's bytes, then in each
    object stream (`streams`: `_object_streams` of `data`). An object stream that cannot be
    read (another filter, a damaged stream, a dictionary `_object_streams` does not bound)
    yields None."""
    i = data.find(b"/FontFile")
    last = -1
    while i >= 0:
        start = _object_start(data, i)
        end = data.find(b"endobj", i, i + OBJECT_MAX)
        if start is None or end < 0:
            yield None
            return
        if start != last:
            last = start
            yield data[start:end]
        i = data.find(b"/FontFile", end)
    for opened, close, out in streams:
        if close is None or out is None:  # a stream this check cannot read may hold descriptors
            yield None
            return
        if _escaped_key(out):
            yield ESCAPED_NAME
            return
        if b"/FontFile" not in out:
            continue
        first = _FIRST.search(data, opened, close)
        head = out[:int(first[1])].split() if first else []
        try:
            offsets = sorted({int(first[1]) + int(x) for x in head[1::2]})
        except ValueError:
            offsets = []
        if not offsets:
            yield None
            return
        offsets.append(len(out))
        i = out.find(b"/FontFile")
        while i >= 0:
            k = bisect_right(offsets, i)
            if k == 0 or k == len(offsets):
                yield None
                return
            yield out[offsets[k - 1]:offsets[k]]
            i = out.find(b"/FontFile", offsets[k])


OBJECT_HEADS_TRIED = 64
"""`obj`s tried, going back from a /FontFile key, for the head of its object (a font
descriptor holds none: thousands of them in a crafted file took seconds a key)."""


def _object_start(data: bytes, i: int) -> int | None:
    """Where the indirect object holding position `i` starts (its `N G obj`), looked for
    as far back as `OBJECT_MAX`, among the last `OBJECT_HEADS_TRIED` `obj`s before it."""
    low = max(0, i - OBJECT_MAX)
    j = data.rfind(b"obj", low, i)
    for _ in range(OBJECT_HEADS_TRIED):
        if j < 0:
            return None
        if _OBJECT_HEAD.search(data, max(low, j - 24), j + 3):
            return j + 3
        j = data.rfind(b"obj", low, j)
    return None


def _inflates_like_a_bomb(data: bytes) -> bool:
    for m in _STREAM.finditer(data):
        head = data[m.end(): m.end() + 1024]
        if not _zlib_header(head):  # zlib would refuse it at once: an `endstream` (then `endobj`),
            continue  # or not deflated (Chromium writes ~300 streams a page)
        try:
            out = zlib.decompressobj().decompress(head, BOMB_RATIO * len(head) + 1)
        except zlib.error:
            continue
        if len(out) > BOMB_RATIO * len(head):
            return True
    return False


def _read(path: Path, settings: ExtractSettings, pdf: pdfium.PdfDocument, zero_descent: bool = False
          ) -> RawDocument | str:
    n_pages = len(pdf)
    if n_pages > settings.max_pages:
        raise LimitExceeded(path, f"{n_pages} pages exceeds max_pages={settings.max_pages}")
    if n_pages == 0:
        return "no pages"
    tables: list[RawTable] = []
    page_texts: list[str] = []
    n_chars = 0
    started = time.monotonic()
    rounded: dict = {}  # (`page_matrix`) → {PDFium's x: pdfminer's rounded x}: see `_chars`
    for pageno in range(1, n_pages + 1):
        if time.monotonic() - started > settings.max_seconds:
            raise LimitExceeded(path, f"still reading after max_seconds={settings.max_seconds:g} s "
                                      f"(gave up at page {pageno})")
        page = pdf[pageno - 1]
        try:
            got = read_page(page, rounded, zero_descent)
        finally:
            page.close()
        if isinstance(got, str):
            return f"page {pageno}: {got}"
        chars, hsegs, vsegs = got
        n_chars += len(chars)
        rows = page_to_rows(chars, hsegs, vsegs, pageno)
        tables.append(RawTable(rows=rows, index=pageno - 1, page=pageno, locator=f"page {pageno}"))
        page_texts.append("\n".join(r.text("\t") for r in rows))
    if n_chars == 0:
        return "no characters"
    return RawDocument(path=path, format="pdf", text="\n\f".join(page_texts), tables=tables, pages=n_pages)


def read_page(page: pdfium.PdfPage, rounded: dict | None = None, zero_descent: bool = False):
    """(chars, hsegs, vsegs) of one page in pdfminer's frame, or why PDFium cannot tell.
    `rounded` carries the rounded x edges from page to page (`_chars`); `zero_descent`:
    every embedded font's descent is 0 (`_descents` of the file's bytes is True)."""
    ctm = page_matrix(page)
    textpage = page.get_textpage()
    try:
        chars, seen = _chars(textpage.raw, ctm, {} if rounded is None else rounded.setdefault(ctm, {}),
                             zero_descent)
        if isinstance(chars, str):
            return chars
        hsegs: list[tuple[float, float, float]] = []
        vsegs: list[tuple[float, float, float]] = []
        unseen = _walk_page(page.raw, ctm, seen, hsegs, vsegs, textpage.raw)
    finally:
        textpage.close()
    if unseen:
        return f"{unseen} text object(s) missing from PDFium's text page"
    return chars, hsegs, vsegs


def page_matrix(page: pdfium.PdfPage) -> Matrix:
    """pdfminer's initial CTM: the MediaBox to the origin, then the page's /Rotate."""
    x0, y0, x1, y1 = page.get_mediabox()
    rotate = page.get_rotation()
    if rotate == 90:
        return (0, -1, 1, 0, -y0, x1)
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1)
    if rotate == 270:
        return (0, 1, -1, 0, y1, -x0)
    return (1, 0, 0, 1, -x0, -y0)


def _mult(m: Matrix, n: Matrix) -> Matrix:
    """m then n (pdfminer's `mult_matrix(m, n)`)."""
    a0, b0, c0, d0, e0, f0 = m
    a1, b1, c1, d1, e1, f1 = n
    return (a0 * a1 + b0 * c1, a0 * b1 + b0 * d1, c0 * a1 + d0 * c1, c0 * b1 + d0 * d1,
            e0 * a1 + f0 * c1 + e1, e0 * b1 + f0 * d1 + f1)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _chars(tp, ctm: Matrix, xs: dict[float, float], zero_descent: bool = False
           ) -> tuple[list[Char] | str, set[int]]:
    """The page's characters (whitespace dropped, as pdfminer's `_collect` drops it, and with
    it every character PDFium generates: spaces and line breaks) and the addresses of the
    text objects they come from. PDFium is asked three things per character (the
    Unicode-map check, the text object, the loose box), each for the whole page in a `map`
    (a loop in C: no Python between calls), the boxes written side by side into one array;
    and three per text object (font, size, text matrix) in the loop, where the objects
    change (asking them in maps too saved 2% on WPS's one object per character and cost 1%
    elsewhere). The text is read in one call, and whitespace told from it without a call.
    What depends on a text object's font, size and matrix (the box's height and descent,
    whether it is upright) is computed once per font, size and matrix; an x edge is rounded
    once (`xs`: PDFium's x → the rounded x in the frame of `ctm`, kept from page to page):
    characters start and end on a few x positions (columns, a grid of full-width
    characters), and `round` to three decimals costs as much as seven dictionary lookups.
    Over 60 lines: the per-character loop is kept in one frame (a call per character costs
    as much as a PDFium call)."""
    n = c.FPDFText_CountChars(tp)
    seen: set[int] = set()
    if n <= 0:
        return [], seen
    buf = (ctypes.c_ushort * (n + 1))()
    got = c.FPDFText_GetText(tp, 0, n, buf)
    text = bytes(buf)[: max(got - 1, 0) * 2].decode("utf-16-le", "surrogatepass")
    if len(text) != n or _SURROGATE.search(text):
        # PDFium counts a character outside the Basic Multilingual Plane as two, its UTF-16
        # halves, each with a box of its own: the page's text no longer maps one to one onto
        # the character indices (every later character would take another's box)
        return "a character outside Unicode's basic plane (PDFium splits it in two)", seen
    tpa = ctypes.cast(tp, ctypes.c_void_p).value
    ks = [k for k, t in enumerate(text) if not t.isspace()]  # never asked about (see `_walk_page`)
    m = len(ks)
    errors = list(map(_unicode_error, repeat(tpa, m), ks))
    bad = next(j for j, e in enumerate(errors) if e) if any(errors) else m  # read up to the first unmapped
    objects = list(map(_text_object_at, repeat(tpa, bad), ks))
    boxes = array("f", bytes(16 * bad))  # FS_RECTF each: left, top, right, bottom
    at = boxes.buffer_info()[0]
    deque(map(_loose_box, repeat(tpa, bad), ks, range(at, at + 16 * bad, 16)), maxlen=0)
    mat = (ctypes.c_float * 6)()  # FS_MATRIX: a, b, c, d, e, f
    mat_at = ctypes.addressof(mat)
    ox, oy = ctypes.c_double(), ctypes.c_double()
    ox_ref, oy_ref = ctypes.byref(ox), ctypes.byref(oy)
    usable: dict[int, tuple] = {}  # font → (why PDFium cannot measure it, horizontal, pdfminer's descent or None)
    known: dict[tuple, tuple[float, float, bool, bool]] = {}  # (font, size, a, b, c, d) → `_metrics`
    seen_add = seen.add
    translate = ctm[0] == 1 and ctm[3] == 1  # no /Rotate: the frame is a translation
    dx, dy = ctm[4], ctm[5]
    chars: list[Char] = []
    append = chars.append
    text_font, text_matrix, unpack_matrix, font_size = _text_font, _text_matrix, _unpack_matrix, _font_size
    digits = DECIMALS
    xs_get = xs.get
    last_obj, last_font, fonts, got, baseline = None, None, None, None, None
    key = (None, None, None, None, None, None)  # the last text object's (font, size, a, b, c, d)
    line = None  # the rounded (y0, y1, size) of the object's level baseline, once known
    last_right, x1 = None, 0.0  # the last character's right edge as PDFium gave it, and rounded
    wide = 0.0  # a loose box wider than this is vertical writing
    lines: dict[tuple[float, float, float], tuple[float, float, float]] = {}
    prev_left = prev_right = None
    for j, k, obj, left, right in zip(range(bad), ks, objects, boxes[0::4], boxes[2::4]):
        if left == prev_left and right == prev_right and left != right and obj == last_obj:
            # one glyph giving several characters (a ligature mapped to `fi`, `12`): PDFium
            # gives each the glyph's box, pdfminer one character of them all
            return SHARED_BOX, seen
        prev_left, prev_right = left, right
        if obj != last_obj:
            # a new text object (WPS writes one per character): its font, size and matrix,
            # compared with the last object's before anything is hashed or computed
            seen_add(obj)
            last_obj = obj
            font = text_font(obj)
            if font != last_font:
                fonts = usable.get(font) if font else (NOT_EMBEDDED, False, None)
                if fonts is None:
                    fonts = usable[font] = _font_facts(font, zero_descent)
                if fonts[0]:
                    return fonts[0], seen
                last_font = font
            text_matrix(tpa, k, mat_at)
            a, b, cc, d, _, f = unpack_matrix(mat)
            size = font_size(tpa, k)
            now = got
            if not (size == key[1] and a == key[2] and b == key[3] and cc == key[4] and d == key[5]
                    and font == key[0]):
                key = (font, size, a, b, cc, d)
                now = known.get(key)
                if now is None:
                    now = known[key] = _metrics(key, fonts[1], fonts[2])
            if now is not got or f != baseline:  # the last object's line holds for the same metrics and baseline
                got, baseline = now, f
                wide = 1.5 * got[0] + 0.5
                line = None
                if translate and got[2] and got[3]:
                    # upright on a level baseline (the origin's y is the matrix's f: see
                    # `_metrics`): pdfminer's box from the baseline's descent up by the font
                    # size, rounded once per baseline, size and descent
                    line = lines.get((f, got[0], got[1]))
                    if line is None:
                        bottom = f + got[1]
                        top = bottom + got[0]
                        line = lines[f, got[0], got[1]] = (
                            round(bottom + dy, digits), round(top + dy, digits), round(top - bottom, digits))
        if line is not None and right - left <= wide:
            # a character starting where the last one ended (most of a run) shares its edge
            if left != last_right:
                x0 = xs_get(left)
                if x0 is None:
                    x0 = xs[left] = round(left + dx, digits)
            else:
                x0 = x1
            x1 = xs_get(right)
            if x1 is None:
                x1 = xs[right] = round(right + dx, digits)
            last_right = right
            append((x0, x1, line[0], line[1], text[k], line[2]))
            continue
        last_right = None
        t = text[k]
        left, top, right, bottom = _unpack_box(boxes, 16 * j)
        size, descent, upright, level = got
        if right - left > wide:
            # vertical writing: PDFium's loose box leaves the text matrix's scale out; the
            # origin is the glyph's lower left, as in pdfminer's box
            _char_origin(tpa, k, ox_ref, oy_ref)
            left, bottom, right, top = ox.value, oy.value, ox.value + size, oy.value + size
        elif upright:  # pdfminer's box: from the baseline's descent up by the font size
            if level:
                bottom = baseline + descent
            else:
                _char_origin(tpa, k, ox_ref, oy_ref)
                bottom = oy.value + descent
            top = bottom + size
        if translate:  # `char(...)` inlined: the same rounding
            append((round(left + dx, digits), round(right + dx, digits), round(bottom + dy, digits),
                    round(top + dy, digits), t, round(top - bottom, digits)))
        else:
            append(_in_frame(ctm, left, bottom, right, top, t))
    if bad < m:
        return "a character without a Unicode mapping", seen
    return chars, seen


_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 surrogate pair (one left alone by the decoding: a pair decodes to one
character, which `_chars` tells by the text's length)."""


def _metrics(key: tuple, horizontal: bool, descent: float | None = None) -> tuple[float, float, bool, bool]:
    """(size, descent, upright, level) of a text object of `key` (font, font size, text
    matrix's a, b, c, d): its font size and the font's descent (pdfminer's, where the font
    descriptor gives one) scaled by the text matrix, whether it is upright, and whether its
    baseline is level (the font writes horizontally and the matrix's b is 0: a character's
    origin is the matrix applied to (advance, 0): all its characters' origins have the
    matrix's f as y; checked on 160,000 characters of the repository's and 300 generated
    PDFs, every one of them with b == 0 in a horizontal font). WPS writes one text object
    per character: this is computed once per font, font size and matrix scale, and only
    looked up per object. A font that is neither embedded nor one of the standard 14 is
    refused before (`_font_facts`): PDFium measures the system font it substitutes (see the
    module docstring), or leaves out a glyph the substitute lacks. `descent`: pdfminer's
    descent in thousandths of the size where PDFium's is not it (`_font_facts`), else
    PDFium's (`FPDFFont_GetDescent` at size 1000); scaled as pdfminer scales it (× 0.001 ×
    the size, in double precision: PDFium's own scaling, in single precision, put a
    bottom on the other side of a rounding tie, 0.001 pt off, with /Descent -9 at 10.5 pt)."""
    font, font_size, _, b, cc, d = key
    scale = math.hypot(cc, d)
    if descent is None:  # PDFium's, in thousandths: its integer m_Descent (× 1000 ÷ 1000 in single precision)
        got = ctypes.c_float(0.0)
        _font_descent(font, ctypes.c_float(1000.0), ctypes.byref(got))
        descent = got.value
    descent = descent * 0.001 * font_size  # as pdfminer: in double precision (PDFium's own is single)
    return (font_size * scale, descent * scale, abs(b) < 1e-6 and abs(cc) < 1e-6, b == 0.0 and horizontal)


def _font_facts(font: int, zero_descent: bool) -> tuple[str | None, bool, float | None]:
    """(why PDFium cannot measure the font as pdfminer does or None, whether it writes
    horizontally, pdfminer's descent in thousandths where PDFium's is not it or None).
    pdfminer's descent, where PDFium's differs: a standard font's (not embedded) is its
    AFM metrics' (pdfminer's `FontMetricsDB`; PDFium measures its own substitute: Helvetica
    -224 against the AFM's -207, Times-Roman -249 against -217); an embedded font's is 0
    when every font descriptor of the file says so (`_descents`: PDFium then measures the
    glyph 'g' instead). Refused: a Type 3 font (Chromium prints Noto CJK so) counts as
    embedded but has no font file: PDFium's loose box is then the glyph's ink, where
    pdfminer takes its advance, and their descents come from different places (a real
    report printed by Chromium read by PDFium had every character about 0.12 em lower and a
    header cell in the row above); a font neither embedded nor one of the standard 14 (see
    the module docstring); an embedded font named as one of pdfminer's standard fonts
    (`Helvetica`, `Arial`, not subset): pdfminer measures it by that font's AFM metrics."""
    name = ctypes.create_string_buffer(128)
    c.FPDFFont_GetBaseFontName(ctypes.cast(font, c.FPDF_FONT), name, 128)
    standard = FONT_METRICS.get(name.value.decode("latin-1"))
    if not _font_embedded(font):
        if standard is None or not STANDARD_14.match(name.value):
            return NOT_EMBEDDED, False, None
        descent = float(standard[0].get("Descent", 0))
        return None, _horizontal(font), -descent if descent > 0 else descent
    size = ctypes.c_size_t(0)
    if not _font_data(font, None, 0, ctypes.byref(size)) or size.value == 0:
        return TYPE3, False, None
    if standard is not None:
        return STANDARD_NAME, False, None
    return None, _horizontal(font), 0.0 if zero_descent else None


def _horizontal(font: int) -> bool:
    """Whether the font writes horizontally: PDFium gives a vertical font's glyphs their
    vertical displacement as width, negative (/DW2's -1000 by default)."""
    width = ctypes.c_float(0.0)
    _glyph_width(font, 0x4E00, ctypes.c_float(1000.0), ctypes.byref(width))
    return width.value >= 0


STANDARD_14 = re.compile(rb"(Times|Helvetica|Courier|Symbol|ZapfDingbats)(-|$)")
"""The standard 14 fonts (of the names pdfminer has AFM metrics for, `FONT_METRICS`, not
Arial, CourierNew, TimesNewRoman, which PDFium substitutes), read by PDFium without
embedding: their origins and sizes are pdfminer's, their descent is taken from the AFM
metrics as pdfminer takes it (`_font_facts`), the edges of their loose boxes can be up to
0.1 em off pdfminer's advances (an italic's ink)."""

NOT_EMBEDDED = "a font that is not embedded (PDFium would measure a substitute)"
SHARED_BOX = ("two characters in one box (one glyph mapped to several characters: PDFium splits "
              "them, pdfminer keeps one)")
TYPE3 = "a Type 3 font (PDFium boxes its glyphs by their ink, pdfminer by their advance)"
STANDARD_NAME = "an embedded font under a standard font's name (pdfminer measures it by the standard metrics)"


def _in_frame(ctm: Matrix, left: float, bottom: float, right: float, top: float, t: str) -> Char:
    """A character's box moved into pdfminer's frame; its size is the box's height there."""
    if ctm[0] == 1 and ctm[3] == 1:  # no /Rotate: a translation
        return char(left + ctm[4], right + ctm[4], bottom + ctm[5], top + ctm[5], t, top - bottom)
    xa, ya = _apply(ctm, left, bottom)
    xb, yb = _apply(ctm, right, top)
    y0, y1 = min(ya, yb), max(ya, yb)
    return char(min(xa, xb), max(xa, xb), y0, y1, t, y1 - y0)


_TEXT, _PATH, _FORM = c.FPDF_PAGEOBJ_TEXT, c.FPDF_PAGEOBJ_PATH, c.FPDF_PAGEOBJ_FORM


def _walk_page(raw, ctm: Matrix, seen: set[int], hsegs: list, vsegs: list, tp) -> int:
    """Ruling segments of the page's path objects (inside forms too) into `hsegs`/`vsegs`;
    returns the number of text objects the text page `tp` did not read (`_unread`: `seen`
    holds those that gave it a character other than whitespace). Objects are visited
    last to first, a form's right where it stands (the order `_walk` keeps too); a page's
    own objects, thousands on a WPS page (one text object per character), without a
    stack, fetched in a `map` (a loop in C) and those in `seen` (text objects the text page
    read: it holds nothing else) left out before anything is asked of them."""
    address = ctypes.cast(raw, ctypes.c_void_p).value
    mat = (ctypes.c_float * 6)()
    mat_at = ctypes.addressof(mat)
    xy = array("f", bytes(8))
    unseen = 0
    n = c.FPDFPage_CountObjects(raw)
    for obj in [o for o in map(_page_object_at, repeat(address, n), range(n - 1, -1, -1)) if o not in seen]:
        kind = _object_type(obj)
        if kind == _TEXT:
            if _unread(obj, tp):
                unseen += 1
        elif kind == _PATH:
            _object_matrix(obj, mat_at)
            _path_rulings(obj, _mult(_unpack_matrix(mat), ctm), hsegs, vsegs, xy)
        elif kind == _FORM:
            unseen += _walk([(obj, None)], ctm, seen, hsegs, vsegs, tp)
    return unseen


def _walk(objects: list, ctm: Matrix, seen: set[int], hsegs: list, vsegs: list, tp) -> int:
    """Ruling segments of the path objects (inside forms too) into `hsegs`/`vsegs`; returns
    the number of text objects the text page did not read."""
    unseen = 0
    mat = (ctypes.c_float * 6)()
    mat_at = ctypes.addressof(mat)
    xy = array("f", bytes(8))
    stack = list(objects)
    while stack:
        obj, outer = stack.pop()
        if obj in seen:
            continue
        kind = _object_type(obj)
        if kind == _TEXT:
            if _unread(obj, tp):
                unseen += 1
            continue
        if kind not in (_PATH, _FORM):
            continue
        _object_matrix(obj, mat_at)
        m = _unpack_matrix(mat)
        m = _mult(m, outer) if outer is not None else m
        if kind == _FORM:
            stack += [(_form_object_at(obj, i), m) for i in range(_form_count(obj))]
            continue
        _path_rulings(obj, _mult(m, ctm), hsegs, vsegs, xy)
    return unseen


def _unread(obj, tp) -> bool:
    """Whether the text page left out a text object none of whose characters `_chars` saw:
    not if it gave the text page characters (whitespace alone, which `_chars` does not ask
    about), nor if it draws nothing (`_blank_glyphs`)."""
    return _object_text(obj, tp, None, 0) <= 2 and not _blank_glyphs(obj)  # 2: an empty UTF-16 text


def _blank_glyphs(obj) -> bool:
    """A text object PDFium's text page leaves out because it draws nothing: zero width in a
    font embedded in the file (a space LibreOffice writes on its own). In a font that is not
    embedded, zero width means the substituted font lacks the glyph: its text is unknown."""
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    if not _object_bounds(obj, left, bottom, right, top) or right.value - left.value > 1e-3:
        return False
    font = _text_font(obj)
    return bool(font) and bool(_font_embedded(font))


_MOVE, _LINE, _BEZIER = c.FPDF_SEGMENT_MOVETO, c.FPDF_SEGMENT_LINETO, c.FPDF_SEGMENT_BEZIERTO


def _path_rulings(obj, m: Matrix, hsegs: list, vsegs: list, xy) -> None:
    """The ruling segments of a path object's subpaths (`add_ruling`), each subpath as
    pdfminer's `paint_path` sees it: its end points (a Bézier's control points left out;
    a closing `h` adds the start point) in page space (`m`), and whether it is an
    axis-aligned rectangle (pdfminer's `LTRect`). PDFium writes each point into `xy`
    (two floats) by address. One function, `_apply` inlined: this runs once per path
    segment."""
    xy_at = xy.buffer_info()[0]
    ma, mb, mc, md, me, mf = m
    pts: list[tuple[float, float]] = []
    ops: list[int] = []
    segs: list[int] = []
    bez = 0
    segment_at, segment_type, segment_point = _segment_at, _segment_type, _segment_point
    for i in range(_segment_count(obj)):
        seg = segment_at(obj, i)
        kind = segment_type(seg)
        if kind == _MOVE and pts:
            _add_subpath(pts, ops, segs, hsegs, vsegs)
            pts, ops, segs, bez = [], [], [], 0
        if kind == _BEZIER:
            bez += 1
            if bez % 3:  # a control point
                continue
        segment_point(seg, xy_at, xy_at + 4)
        xv = xy[0]
        yv = xy[1]
        pts.append((ma * xv + mc * yv + me, mb * xv + md * yv + mf))
        ops.append(kind)
        segs.append(seg)
    if pts:
        _add_subpath(pts, ops, segs, hsegs, vsegs)


_OPEN_RECT = [_MOVE, _LINE, _LINE, _LINE]
_RECT = [_MOVE, _LINE, _LINE, _LINE, _LINE]


def _add_subpath(pts: list, ops: list, segs: list, hsegs: list, vsegs: list) -> None:
    """A closing `h` adds the start point: that never moves the subpath's bounding box, and
    makes a rectangle only of `m l l l h`, so only there is PDFium asked whether the subpath
    closes (one call less per segment)."""
    if len(pts) == 4 and ops == _OPEN_RECT and pts[3] != pts[0] and any(_segment_closes(s) for s in segs):
        pts.append(pts[0])
        ops.append(_LINE)
    if len(pts) == 5 and ops == _RECT and pts[0] == pts[4]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
        is_rect = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
        if is_rect:  # its corners: two x and two y (the bounding box of the five points)
            add_ruling(min(x0, x2), min(y0, y2), max(x0, x2), max(y0, y2), True, hsegs, vsegs)
            return
    xs, ys = zip(*pts)
    add_ruling(min(xs), min(ys), max(xs), max(ys), False, hsegs, vsegs)
