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
