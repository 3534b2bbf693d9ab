"""The PDF path's speed-ups keep its results: the bands found by bisection are the bands of
testing every vertical ruling against every band, the page breaks closed through merged
spans are those of testing every ruling near an end, the cached label cleaning, number
parsing and label matching give what the uncached functions give, text lines sorted in two
stable sorts are those of one, a whole line grouped again is itself, the title searched
from before its first year is the title, and what the PDFium reader assumes to ask PDFium
less holds on every PDF of the repository."""

from __future__ import annotations

import bisect
import ctypes
import random
import re
from pathlib import Path
from types import SimpleNamespace

import pypdfium2 as pdfium
import pypdfium2.raw as c
from reportlab.pdfgen import canvas

from extract import ExtractSettings, RawDocument, metadata, read_document
from extract import pdfium as pdfium_reader
from extract.models import RawCell, snap
from extract.pdf import DEFAULT_MIN_BAND, DEFAULT_SNAP, _bands, _join, _join_lines, _lines, close_page_breaks
from transform import tidy
from transform.match import _best_contained
from transform.normalize import norm
from transform.numbers import _clean, looks_numeric, parse_amount, parse_count
from transform.templates import ItemSpec


def _bands_by_testing_every_ruling(hsegs, vsegs):
    """The rule as first written: every vertical ruling tested against every band."""
    ys = snap([s[0] for s in hsegs], DEFAULT_SNAP)
    bands = []
    for bottom, top in zip(ys, ys[1:]):
        if top - bottom < DEFAULT_MIN_BAND:
            continue
        lo, hi = bottom + 1.0, top - 1.0
        xs = snap([x for x, y0, y1 in vsegs if y0 <= lo + 0.5 and y1 >= hi - 0.5], DEFAULT_SNAP)
        if len(xs) >= 2:
            bands.append((bottom, top, xs))
    return bands


def test_bands_by_bisection_are_the_bands_of_testing_every_ruling_against_every_band():
    rnd = random.Random(7)
    for _ in range(300):
        ys = sorted(round(rnd.uniform(0, 800), rnd.choice((0, 1, 3))) for _ in range(rnd.randint(0, 25)))
        hsegs = [(y, 50.0, 500.0) for y in ys] + [(y + rnd.choice((0.0, 0.5, 1.5, 2.0)), 50.0, 500.0) for y in ys[:3]]
        vsegs = []
        for _ in range(rnd.randint(0, 60)):
            y0 = rnd.choice(ys) if ys and rnd.random() < 0.7 else rnd.uniform(0, 800)
            y1 = y0 + rnd.choice((0.0, 1.0, 2.5, 3.0, rnd.uniform(0, 300)))
            vsegs.append((round(rnd.uniform(40, 520), 3), y0 + rnd.choice((0.0, 0.5, 1.5, -1.5)), y1))
        assert _bands(hsegs, vsegs) == _bands_by_testing_every_ruling(hsegs, vsegs)


def test_a_ruling_ending_exactly_on_a_band_bound_crosses_it_in_both():
    hsegs = [(100.0, 0.0, 300.0), (120.0, 0.0, 300.0)]
    vsegs = [(10.0, 101.5, 118.5), (200.0, 101.5000001, 118.5), (290.0, 101.5, 118.4999), (300.0, 90.0, 130.0)]
    assert _bands(hsegs, vsegs) == _bands_by_testing_every_ruling(hsegs, vsegs) == [(100.0, 120.0, [10.0, 300.0])]


def _close_page_breaks_testing_every_ruling_near(hsegs, vsegs):
    """The rule as first written: at each end of a vertical ruling, every horizontal ruling
    near its height tested in turn."""
    ys = sorted(hsegs)
    keys = [h[0] for h in ys]
    open_ends = []
    for x, y0, y1 in vsegs:
        for y in (y0, y1):
            near = ys[bisect.bisect_left(keys, y - DEFAULT_SNAP):bisect.bisect_right(keys, y + DEFAULT_SNAP)]
            if not any(x0 - DEFAULT_SNAP <= x <= x1 + DEFAULT_SNAP for _, x0, x1 in near):
                open_ends.append((y, x))
    added = []
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


def test_page_breaks_closed_by_merged_spans_are_those_of_testing_every_ruling():
    rnd = random.Random(11)
    added = 0
    for _ in range(500):
        ys = [round(rnd.uniform(0, 800), rnd.choice((0, 1, 3))) for _ in range(rnd.randint(0, 12))]
        hsegs = []
        for y in ys:
            x0 = round(rnd.uniform(0, 500), rnd.choice((0, 3)))
            hsegs.append((y + rnd.choice((0.0, 1.5, -1.5, 1.6, 0.2)), x0, x0 + rnd.choice((0.0, 3.0, rnd.uniform(0, 300)))))
        vsegs = []
        for _ in range(rnd.randint(0, 30)):
            x = rnd.choice([h[1] for h in hsegs] + [h[2] for h in hsegs] + [rnd.uniform(0, 800)])
            x += rnd.choice((0.0, 1.5, -1.5, 1.50001, -1.6))
            y0 = rnd.choice(ys) if ys and rnd.random() < 0.8 else rnd.uniform(0, 800)
            vsegs.append((x, y0, y0 + rnd.choice((0.0, 20.0, rnd.uniform(0, 300)))))
        got = close_page_breaks(hsegs, vsegs)
        assert got == _close_page_breaks_testing_every_ruling_near(hsegs, vsegs)
        added += len(got) - len(hsegs)
    assert added > 100  # the inputs do leave ends open


def test_cached_label_and_number_cleaning_give_what_the_functions_compute():
    for text in ("（一）⼯作 “主动” 公开", "１，２３４", "1 2", "—", "", "  3 件 ", "251000元", "12.5", "x"):
        assert norm(text) == norm.__wrapped__(text) == norm(text)
        for apart in (False, True):
            assert _clean(text, apart) == _clean.__wrapped__(text, apart)
        assert looks_numeric(text) == looks_numeric.__wrapped__(text) == looks_numeric(text)
        assert parse_count(text) == parse_count.__wrapped__(text) == parse_count(text)
        for unit, header in (("万元", False), ("元", True)):
            assert parse_amount(text, unit, header) == parse_amount.__wrapped__(text, unit, header)


def test_items_a_label_names_are_cached_per_item_list_not_per_label_alone():
    first = (ItemSpec("a", ("公开",), ()), ItemSpec("b", ("主动公开",), ()))
    second = (ItemSpec("c", ("公开",), ()),)
    assert _best_contained("主动公开", first) == ((2, "a"), (4, "b"))
    assert _best_contained("主动公开", second) == ((2, "c"),)
    assert _best_contained("主动公开", first) == ((2, "a"), (4, "b"))


ROOT = Path(__file__).resolve().parent.parent
REPO_PDFS = sorted((ROOT / "data" / "sample").glob("*.pdf")) + sorted((ROOT / "tests" / "fixtures").rglob("*.pdf"))


def _chars_with_fonts(path: Path):
    """(origin y, text matrix, horizontal font?) of every character of every page."""
    pdf = pdfium.PdfDocument(path.read_bytes())
    ox, oy, mat = ctypes.c_double(), ctypes.c_double(), c.FS_MATRIX()
    try:
        for i in range(len(pdf)):
            tp = pdf[i].get_textpage()
            for k in range(c.FPDFText_CountChars(tp.raw)):
                obj = c.FPDFText_GetTextObject(tp.raw, k)
                if not obj or not chr(c.FPDFText_GetUnicode(tp.raw, k)).strip():
                    continue
                c.FPDFText_GetCharOrigin(tp.raw, k, ox, oy)
                c.FPDFText_GetMatrix(tp.raw, k, mat)
                font = ctypes.cast(c.FPDFTextObj_GetFont(obj), ctypes.c_void_p).value
                yield oy.value, (mat.a, mat.b, mat.c, mat.d, mat.e, mat.f), pdfium_reader._horizontal(font)
            tp.close()
    finally:
        pdf.close()


def test_a_level_character_in_a_horizontal_font_has_its_text_matrix_f_as_origin_y():
    """What lets the reader skip asking PDFium for the origin of such characters."""
    level = 0
    for path in REPO_PDFS:
        for y, m, horizontal in _chars_with_fonts(path):
            if horizontal and m[1] == 0.0:
                assert y == m[5], (path.name, y, m)
                level += 1
    assert level > 10_000


def test_the_vertical_font_of_the_real_report_is_told_by_its_negative_glyph_width():
    fonts = {horizontal for _, _, horizontal in _chars_with_fonts(ROOT / "tests" / "fixtures" / "real" / "hongze-2024.pdf")}
    assert fonts == {True, False}


def _lines_with_one_sort_key(chars):
    """`_lines` as first written: one sort by (centre, top first; then x0)."""
    lines, total = [], 0.0
    for ch in sorted(chars, key=lambda c: (-(c[2] + c[3]) / 2, c[0])):
        cy = (ch[2] + ch[3]) / 2
        if lines and abs(cy - total / len(lines[-1])) <= max(ch[5], 1.0) * 0.4:
            lines[-1].append(ch)
            total += cy
            continue
        lines.append([ch])
        total = 0.0 + cy
    for line in lines:
        line.sort(key=lambda c: c[0])
    return lines


def _random_free_text(rnd: random.Random) -> list:
    """Characters of a few lines, some raised or in another size, some at one x twice."""
    chars = []
    for line in range(rnd.randint(1, 6)):
        y = 700.0 - line * rnd.choice((12.0, 14.5, 6.0))
        x = 50.0
        for _ in range(rnd.randint(1, 30)):
            size = rnd.choice((10.5, 10.5, 10.5, 7.0, 12.0))
            y0 = round(y + rnd.choice((0.0, 0.0, 0.0, 2.5, -1.0, 4.0)), 3)
            chars.append((round(x, 3), round(x + size * 0.6, 3), y0, round(y0 + size, 3),
                          rnd.choice("12３一二表公开 x"), size))
            x += size * rnd.choice((0.6, 0.6, 0.0, 1.8))
    rnd.shuffle(chars)
    return chars


def test_lines_sorted_in_two_stable_sorts_are_the_lines_of_one_sort_by_centre_then_x():
    rnd = random.Random(11)
    for _ in range(2000):
        chars = _random_free_text(rnd)
        assert _lines(chars) == _lines_with_one_sort_key(chars)


def test_a_line_grouped_again_alone_is_the_same_line():
    """Why `_fragments` need not group a free line that is one fragment again: `_lines` of
    a whole line's characters gives that line (the same order, the same running centres)."""
    rnd = random.Random(12)
    for _ in range(2000):
        for line in _lines(_random_free_text(rnd)):
            assert _lines(list(line)) == [line]
            assert _join(list(line)) == _join_lines([line])


_TITLE_AT_EVERY_CHARACTER = re.compile(
    r"(?P<pre>[^。；;：:\n]{0,40}?)(?P<year>(?:19|20)\d{2})年度?(?P<post>[^。；;：:\n\d]{0,40}?)"
    r"政府信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)")


def test_a_title_searched_from_before_its_first_year_is_the_title_searched_from_the_start():
    rnd = random.Random(13)
    pieces = ["2019", "2020年", "年度", "政府信息公开", "工作", "年度报告", "报告", "年报", "关于", "。", "\n",
              "市", "局", "某某区人民政府", " ", "1", "：", "x" * 15, "热点信息" * 5]
    found = 0
    for _ in range(30_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        flat, _ = metadata._flatten(text)
        want = _TITLE_AT_EVERY_CHARACTER.search(flat)
        first = metadata._YEAR_ON.search(flat)
        got = metadata._TITLE.search(flat, max(first.start() - 40, 0)) if first else None
        assert (want and (want.span(), want.groupdict())) == (got and (got.span(), got.groupdict()))
        found += want is not None
    assert found > 500


def test_a_text_object_of_spaces_alone_is_read_by_pdfium(tmp_path):
    """`_chars` never asks about whitespace; the walk finds such an object in the text page."""
    path = tmp_path / "spaces.pdf"
    cv = canvas.Canvas(str(path))
    cv.setFont("Helvetica", 10)
    cv.drawString(100, 700, "total 12")
    cv.drawString(100, 680, "      ")  # a text object of spaces only
    cv.drawString(100, 660, "34")
    cv.save()
    got = pdfium_reader.read_pages(path, ExtractSettings(), path.read_bytes())
    assert isinstance(got, RawDocument), got
    assert got.text == read_document(path, ExtractSettings(pdf_engine="pdfminer")).text == "total12\n34"



class _Forgetful(dict):
    """An x-edge cache that keeps nothing: every edge is rounded where it is met."""

    def __setitem__(self, key, value):
        pass

    def setdefault(self, key, default=None):
        return _Forgetful()


def test_x_edges_rounded_once_per_document_are_the_edges_rounded_per_character():
    """`_chars` rounds each PDFium x once (a cache kept from page to page): the characters,
    on every PDF of the repository, are those of rounding every edge where it is met."""
    for path in REPO_PDFS:
        pdf = pdfium.PdfDocument(path.read_bytes())
        shared: dict = {}
        try:
            for i in range(len(pdf)):
                page = pdf[i]
                assert pdfium_reader.read_page(page, shared) == pdfium_reader.read_page(page, _Forgetful()), (path, i)
                page.close()
        finally:
            pdf.close()


def _as_headed_by_testing_every_header(placed, columns, ir):
    """`tidy._as_headed` as first written: each cell to the header nearest it, every header
    tested."""
    if not all(col in ir.exact and col in ir.header for col in columns):
        return placed
    cells = list(placed.values())
    if any(c.center is None for c, _ in cells):
        return placed
    centers = {col: ir.header[col] for col in columns}
    xs = sorted(centers.values())
    tight = min((b - a for a, b in zip(xs, xs[1:])), default=0.0) / 2
    by_header = {}
    for cell, idx in cells:
        col = min(columns, key=lambda k: abs(centers[k] - cell.center))
        if col in by_header or abs(centers[col] - cell.center) >= tight:
            return placed
        by_header[col] = (cell, idx)
    return by_header


def test_cells_placed_under_the_nearest_header_by_bisection_are_those_of_testing_every_header():
    rnd = random.Random(15)
    moved = 0
    for _ in range(20_000):
        columns = tuple(f"c{k}" for k in range(rnd.randint(1, 7)))
        header = {col: float(rnd.choice((rnd.randint(0, 40) * 5, rnd.uniform(0, 200)))) for col in columns}
        ir = SimpleNamespace(exact=set(columns), header=header)
        placed = {}
        for k, col in enumerate(columns):
            x = rnd.choice((header[rnd.choice(columns)], rnd.randint(0, 40) * 5 + rnd.choice((0, 2.5, 1)),
                            rnd.uniform(-10, 210)))
            placed[col] = (RawCell("1", x - 4, x + 4), k)
        want = _as_headed_by_testing_every_header(placed, columns, ir)
        assert tidy._as_headed(placed, columns, ir) == want
        moved += want is not placed and list(want) != list(placed)
    assert moved > 100
