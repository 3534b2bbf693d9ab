"""Font metrics PDFium reads differently from pdfminer, and what the PDFium reader does
about them: a font descriptor's fractional /Descent (PDFium truncates it) sends the
document to pdfminer; the same embedded font with integer metrics is read by PDFium, and
both engines give the same rows (the same cells' text; a right edge can differ by 0.002 pt,
PDFium's advance: see `tests/test_pdf_engines.py`)."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from extract import ExtractSettings, RawDocument
from extract import pdfium as pdfium_reader
from extract.pdf import read_document

ROOT = Path(__file__).resolve().parent.parent
REPO_PDFS = sorted((ROOT / "data" / "sample").glob("*.pdf")) + sorted((ROOT / "tests" / "fixtures").rglob("*.pdf"))
CJK_TTF = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FRACTIONAL = "a font descriptor with a fractional /Descent (PDFium truncates it)"


def test_a_fractional_descent_is_found_in_the_file_and_in_its_object_streams():
    assert pdfium_reader._fractional_descent(b"<< /Type /FontDescriptor /Descent -240.2344 >>")
    assert not pdfium_reader._fractional_descent(b"<< /Type /FontDescriptor /Descent -240 >>")
    assert not pdfium_reader._fractional_descent(b"<< /Type /FontDescriptor /Descent -240.0 >>")
    packed = zlib.compress(b"12 0 << /Type /FontDescriptor /Ascent 765 /Descent -240.5 >>")
    objstm = b"5 0 obj << /Type /ObjStm /N 1 /First 5 /Length %d /Filter /FlateDecode >> stream\n" % len(packed)
    assert pdfium_reader._fractional_descent(objstm + packed + b"\nendstream endobj")
    # the Chromium-printed fixture's Latin TrueType font has /Descent -216.30859
    assert {p.name for p in REPO_PDFS if pdfium_reader._fractional_descent(p.read_bytes())} == {
        "chromium-7-00048-2024.pdf"}


def _page_in_an_embedded_font(integer_metrics: bool) -> bytes:
    """Two lines in an embedded TrueType font at different sizes, one just below the other
    (where line grouping is decided by the boxes below the baseline)."""
    name = "WQY-int" if integer_metrics else "WQY-frac"
    try:
        pdfmetrics.getFont(name)
    except KeyError:
        font = TTFont(name, str(CJK_TTF), subfontIndex=1 if integer_metrics else 0)  # faces are cached per file and index
        if integer_metrics:
            font.face.descent, font.face.ascent = int(font.face.descent), int(font.face.ascent)
        pdfmetrics.registerFont(font)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for k, (size, text) in enumerate(((16, "三、本年度办理结果"), (10.5, "（不计其他情形）12"), (9, "合计 345"))):
        c.setFont(name, size)
        c.drawString(72, 700 - 3.5 * k, text)
        c.drawString(300, 600 - 20 * k, text)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.skipif(not CJK_TTF.exists(), reason="no WenQuanYi Micro Hei here to embed")
def test_an_embedded_font_with_a_fractional_descent_is_read_by_pdfminer():
    data = _page_in_an_embedded_font(integer_metrics=False)
    assert b"/Descent -240.2" in data
    assert pdfium_reader.read_pages(Path("frac.pdf"), ExtractSettings(), data) == FRACTIONAL


@pytest.mark.skipif(not CJK_TTF.exists(), reason="no WenQuanYi Micro Hei here to embed")
def test_an_embedded_font_with_integer_metrics_is_read_by_pdfium_with_pdfminers_rows():
    data = _page_in_an_embedded_font(integer_metrics=True)
    assert isinstance(pdfium_reader.read_pages(Path("int.pdf"), ExtractSettings(), data), RawDocument)
    rows = {engine: [[c.text for c in r.cells] for t in read_document(
        Path("int.pdf"), ExtractSettings(pdf_engine=engine), data).tables for r in t.rows]
        for engine in ("pdfium", "pdfminer")}
    assert rows["pdfium"] == rows["pdfminer"] and len(rows["pdfium"]) >= 4


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
OUTSIDE_BMP = "a character outside Unicode's basic plane (PDFium splits it in two)"


def _page_with_characters_outside_the_basic_plane() -> bytes:
    """`ab𐌀cd 12𐌁34` in an embedded font whose ToUnicode map gives 𐌀 and 𐌁 as UTF-16
    surrogate pairs (reportlab writes them as five hex digits; rewritten in place, the
    file's length and offsets kept)."""
    try:
        pdfmetrics.getFont("DejaVu-int")
    except KeyError:
        font = TTFont("DejaVu-int", str(DEJAVU))
        font.face.descent, font.face.ascent = int(font.face.descent), int(font.face.ascent)
        pdfmetrics.registerFont(font)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=0)
    c.setFont("DejaVu-int", 12)
    c.drawString(72, 700, "ab\U00010300cd 12\U0001030134")
    c.showPage()
    c.save()
    data = buf.getvalue()
    for old, new in ((b"<01> <10300>", b"<01><D800DF00>"), (b"<00> <0000>", b"<00><0000>"), (b"<03> <0000>", b"<03><0000>"),
                     (b"<02> <10301>", b"<02><D800DF01>"), (b"<04> <0000>", b"<04><0000>"), (b"<05> <0000>", b"<05><0000>")):
        assert data.count(old) == 1, old
        data = data.replace(old, new)
    return data


@pytest.mark.skipif(not DEJAVU.exists(), reason="no DejaVu Sans here to embed")
def test_a_character_outside_the_basic_plane_sends_the_document_to_pdfminer_with_every_box_in_place():
    """PDFium counts 𐌀 as two characters (its UTF-16 halves, each with a box): read one to
    one against the page's text, every later character took its neighbour's box."""
    data = _page_with_characters_outside_the_basic_plane()
    assert pdfium_reader.read_pages(Path("smp.pdf"), ExtractSettings(), data) == f"page 1: {OUTSIDE_BMP}"
    texts = {engine: read_document(Path("smp.pdf"), ExtractSettings(pdf_engine=engine), data).text
             for engine in ("pdfium", "pdfminer")}
    assert texts["pdfium"] == texts["pdfminer"] == "ab\U00010300cd12\U0001030134"


@pytest.mark.skipif(not DEJAVU.exists(), reason="no DejaVu Sans here to embed")
def test_one_glyph_mapped_to_two_characters_sends_the_document_to_pdfminer():
    """A ToUnicode map giving one glyph `fi` or `12`: PDFium splits it into two characters,
    each with the glyph's whole box, pdfminer keeps one character `fi`."""
    data = _page_with_characters_outside_the_basic_plane()
    data = data.replace(b"<01><D800DF00>", b"<01><00660069>").replace(b"<02><D800DF01>", b"<02><00310032>")
    assert pdfium_reader.read_pages(Path("fi.pdf"), ExtractSettings(), data) == f"page 1: {pdfium_reader.SHARED_BOX}"
    texts = {engine: read_document(Path("fi.pdf"), ExtractSettings(pdf_engine=engine), data).text
             for engine in ("pdfium", "pdfminer")}
    assert texts["pdfium"] == texts["pdfminer"]
    assert "fi" in texts["pdfminer"]
