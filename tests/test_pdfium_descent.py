"""The font's descent, the box below the baseline, as pdfminer takes it: PDFium replaces a
descriptor's /Descent where pdfminer keeps it (both /Ascent and /Descent 0, as LibreOffice
writes every descriptor: PDFium measures the glyph 'g'; a /FontBBox all 0 or missing: the
font program's descender; a /Descent from 1 to 10: kept positive), and measures a standard
font by its own substitute where pdfminer takes the AFM metrics. The PDFium reader gives
pdfminer's descent (0 for every embedded font of a LibreOffice PDF, the AFM's for the
standard 14), or hands the file to pdfminer when its descriptors do not say which font
PDFium reads differently (`extract.pdfium._descents`, a check on the file's bytes)."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pdfminer.converter import PDFPageAggregator
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from reportlab.pdfgen import canvas

from extract import ExtractSettings, RawDocument
from extract import pdfium as R
from extract.pdf import _collect
from extract.pdfstream import FastPDFPageInterpreter
from transform.pipeline import process_file

ROOT = Path(__file__).resolve().parent.parent
REPO_PDFS = sorted((ROOT / "data" / "sample").glob("*.pdf")) + sorted((ROOT / "tests" / "fixtures").rglob("*.pdf"))
LIBREOFFICE = {"gen-2026-00100-2021.pdf", "gen-2026-00101-2021.pdf", "gen-2026-00102-2021.pdf",
               "gen-2026-00103-2024.pdf", "gen-11-00003-2025.pdf", "gen-12-00146-2024.pdf",
               "gen-12-00155-2021.pdf", "digits-apart-2023.pdf", "t2-rowspan-number-2023.pdf"}
"""The repository's LibreOffice PDFs: every font descriptor with /Ascent 0 /Descent 0."""
WIDE_GLYPH = {"digits-apart-2023.pdf", "t2-rowspan-number-2023.pdf"}
"""LibreOffice prints whose CFF fonts give some glyphs a wider advance in PDFium (up to
1.46 pt: tests/test_pdf_engines.py); their left edges, heights and baselines agree."""


def _pdfminer_chars(data: bytes) -> list[list]:
    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=None)
    interp = FastPDFPageInterpreter(rsrc, device)
    pages = []
    for page in PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))):
        interp.process_page(page)
        pages.append(_collect(device.get_result())[0])
    return pages


def _pdfium_chars(data: bytes) -> list[list]:
    zero_descent = R._descents(data)
    assert not isinstance(zero_descent, str), zero_descent
    pdf = pdfium.PdfDocument(data)
    try:
        pages = [R.read_page(pdf[i], zero_descent=zero_descent) for i in range(len(pdf))]
    finally:
        pdf.close()
    assert not any(isinstance(p, str) for p in pages), pages
    return [p[0] for p in pages]


def _assert_same_chars(data: bytes, x_tolerance: float) -> int:
    """Every page's characters: the same text, bottom, top and size, exactly (rounded to
    3 decimals, as both readers round them); left and right edges within `x_tolerance`
    (PDFium accumulates advances along a run in single precision: 0.001 pt)."""
    n = 0
    for a, b in zip(_pdfium_chars(data), _pdfminer_chars(data), strict=True):
        a, b = sorted(a, key=lambda c: (-c[2], c[0])), sorted(b, key=lambda c: (-c[2], c[0]))
        assert [(c[4], c[2], c[3], c[5]) for c in a] == [(c[4], c[2], c[3], c[5]) for c in b]
        for x, y in zip(a, b):
            assert abs(x[0] - y[0]) <= x_tolerance and abs(x[1] - y[1]) <= x_tolerance, (x, y)
        n += len(b)
    return n


def test_the_repository_libreoffice_pdfs_are_those_with_every_descriptor_at_zero():
    assert {p.name for p in REPO_PDFS if R._descents(p.read_bytes()) is True} == LIBREOFFICE
    assert all(R._descents(p.read_bytes()) is False for p in REPO_PDFS if p.name not in LIBREOFFICE)


@pytest.mark.parametrize("path", [p for p in REPO_PDFS if p.name in LIBREOFFICE], ids=lambda p: p.name)
def test_libreoffice_pdfs_give_pdfminers_characters_at_the_seam(path):
    """Before: PDFium's boxes of these PDFs sat up to 0.18 em lower on ~95% of the
    characters (its descent measured on the glyph 'g', pdfminer's the descriptor's 0)."""
    tolerance = 1.5 if path.name in WIDE_GLYPH else 0.0011
    assert _assert_same_chars(path.read_bytes(), tolerance) > 1000


def test_a_libreoffice_pdf_read_by_pdfium_gives_the_rows_pdfminer_gives():
    path = ROOT / "data" / "sample" / "gen-2026-00100-2021.pdf"
    data = path.read_bytes()
    got = R.read_pages(path, ExtractSettings(), data)
    assert isinstance(got, RawDocument)
    from extract.pdf import read_document
    mine = read_document(path, ExtractSettings(pdf_engine="pdfminer"), data)
    assert [[c.text for c in r.cells] for t in got.tables for r in t.rows] == [
        [c.text for c in r.cells] for t in mine.tables for r in t.rows]


def test_standard_fonts_not_embedded_give_pdfminers_descent_from_the_afm_metrics():
    """PDFium measures its own Helvetica (descent -224) and Times (-249), pdfminer the AFM
    metrics (-207, -217): the boxes' bottoms, tops and sizes now agree exactly. (Left and
    right edges of these fonts differ by up to 1.03 pt, 0.1 em: PDFium's loose box.)"""
    buf = io.BytesIO()
    cv = canvas.Canvas(buf)
    for i, name in enumerate(("Helvetica", "Helvetica-Bold", "Times-Roman", "Times-Italic", "Courier",
                              "Courier-BoldOblique", "Helvetica-Oblique", "Times-BoldItalic")):
        cv.setFont(name, 9 + i % 4)
        cv.drawString(50, 800 - 20 * i, "Agx 123")
    cv.save()
    assert _assert_same_chars(buf.getvalue(), 1.5) == 8 * 6


# --- the check on the file's bytes ---------------------------------------------------------

def _obj(n: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % n + body + b"\nendobj\n"


FONT_FILE = b"/FontFile2 9 0 R"
LO = _obj(5, b"<</Type/FontDescriptor/FontName/BAAAAA+DejaVuSans/Flags 4/FontBBox[-1020 -462 1793 1232]"
             b"/ItalicAngle 0/Ascent 0/Descent 0/CapHeight 1232/StemV 80/" + FONT_FILE[1:] + b">>")
WPS = _obj(6, b"<< /Type /FontDescriptor /FontName /SimSun /FontBBox [-7 -140 1000 859] /Ascent 859 "
              b"/Descent -140 /ItalicAngle 0 " + FONT_FILE + b" >>")


def test_every_descriptor_at_zero_gives_descent_zero_and_real_metrics_leave_pdfiums():
    assert R._descents(b"%PDF-1.6\n" + LO + LO.replace(b"5 0 obj", b"7 0 obj")) is True
    assert R._descents(b"%PDF-1.7\n" + WPS) is False
    assert R._descents(b"%PDF-1.7\n") is False  # no embedded font: nothing PDFium measures itself


def test_descriptors_with_and_without_zero_metrics_go_to_pdfminer():
    assert R._descents(b"%PDF-1.7\n" + LO + WPS) == R.MIXED_DESCENT


def test_missing_keys_are_read_as_pdfium_and_pdfminer_read_them():
    no_metrics = _obj(5, b"<< /Type /FontDescriptor /FontBBox [0 -200 1000 800] " + FONT_FILE + b" >>")
    assert R._descents(no_metrics) is True  # both 0: pdfminer 0, PDFium 'g'
    only_ascent = _obj(5, b"<< /FontBBox [0 -200 1000 800] /Ascent 800 " + FONT_FILE + b" >>")
    assert R._descents(only_ascent) is False  # PDFium keeps its descent of 0, as pdfminer
    no_bbox = _obj(5, b"<< /Ascent 800 /Descent -200 " + FONT_FILE + b" >>")
    assert R._descents(no_bbox) == R.ZERO_BBOX
    zero_bbox = _obj(5, b"<< /FontBBox [0 0 0.5 0] /Ascent 800 /Descent -200 " + FONT_FILE + b" >>")
    assert R._descents(zero_bbox) == R.ZERO_BBOX  # PDFium reads the box as integers
    assert R._descents(_obj(5, b"<< /Ascent 0 /Descent 0 " + FONT_FILE + b" >>")) is True  # pdfminer: 0
    assert R._descents(WPS.replace(b"-140", b"  7 ")) == R.SMALL_DESCENT
    assert R._descents(WPS.replace(b"-140", b"12")) is False  # both negate it
    assert R._descents(WPS.replace(b"/Ascent 859", b"/Ascent 0.5").replace(b"-140", b"0")) is True


def test_a_value_the_check_cannot_read_sends_the_file_to_pdfminer():
    assert R._descents(WPS.replace(b"/Descent -140", b"/Descent 12 0 R")) == R.UNREAD_DESCRIPTOR
    assert R._descents(WPS.replace(b"/Descent -140", b"/Descent 1 0 R")) == R.UNREAD_DESCRIPTOR
    assert R._descents(WPS.replace(b"[-7 -140 1000 859]", b"8 0 R")) == R.UNREAD_DESCRIPTOR
    assert R._descents(b"<< /FontBBox [0 -200 1000 800] " + FONT_FILE + b" >>") == R.UNREAD_DESCRIPTOR  # no obj
    assert R._descents(b"5 0 obj << " + FONT_FILE + b" /FontBBox [0 -200 1000 800]") == R.UNREAD_DESCRIPTOR


def test_nested_dictionaries_in_a_descriptor_are_read_by_their_keys():
    style = WPS.replace(b"/ItalicAngle 0", b"/Style << /Panose <0801020b0600010101010101> >> /ItalicAngle 0")
    assert R._descents(style) is False
    assert R._descents(LO.replace(b"/Flags 4", b"/Style<</Panose<0801020b0600010101010101>>>/Flags 4")) is True
    nested = WPS.replace(b"/ItalicAngle 0", b"/FD << /Sub << /Ascent 0 /Descent 0 /FontBBox [0 0 0 0] >> >>")
    assert R._descents(nested) == R.UNREAD_DESCRIPTOR  # two /Descent in one object: which is PDFium's?


def _object_stream(*objects: bytes, first_key_first: bool = False) -> bytes:
    head, body = b"", b""
    for k, o in enumerate(objects):
        head += b"%d %d " % (20 + k, len(body))
        body += o + b"\n"
    packed = zlib.compress(head + body)
    keys = b"/Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode" % (len(objects), len(head), len(packed))
    if first_key_first:
        keys = b"/First %d /N %d /Length %d /Filter /FlateDecode /Type /ObjStm" % (len(head), len(objects), len(packed))
    return b"4 0 obj << " + keys + b" >> stream\n" + packed + b"\nendstream endobj\n"


def test_descriptors_in_object_streams_are_checked_each_in_its_object():
    lo = b"<</Type/FontDescriptor/FontBBox[-1020 -462 1793 1232]/Ascent 0/Descent 0/" + FONT_FILE[1:] + b">>"
    wps = b"<< /Type /FontDescriptor /FontBBox [-7 -140 1000 859] /Ascent 859 /Descent -140 " + FONT_FILE + b" >>"
    assert R._descents(_object_stream(b"<< /Type /Font >>", lo, lo)) is True
    assert R._descents(_object_stream(lo, lo, first_key_first=True)) is True
    assert R._descents(_object_stream(wps, b"<< /Type /Font >>")) is False
    assert R._descents(_object_stream(lo, wps)) == R.MIXED_DESCENT
    assert R._descents(_object_stream(wps) + LO) == R.MIXED_DESCENT  # one in the file, one in a stream
    packed = _object_stream(lo)
    assert b"stream\nx" in packed  # zlib's header byte
    assert R._descents(packed.replace(b"stream\nx", b"stream\n\x00")) == R.UNREAD_DESCRIPTOR
    assert R._descents(packed.replace(b" >> stream", b" /DecodeParms << /Columns 4 >> >> stream")) == (
        R.UNREAD_DESCRIPTOR)  # a dictionary in the stream's: /First is not looked for past it


def test_a_libreoffice_pdf_with_one_descriptor_changed_is_read_by_pdfminer():
    data = (ROOT / "data" / "sample" / "gen-2026-00100-2021.pdf").read_bytes()
    assert data.count(b"/Ascent 0\n/Descent 0") > 1
    changed = data.replace(b"/Ascent 0\n", b"/Ascent 9\n", 1)  # same length: offsets hold
    assert R.read_pages(Path("changed.pdf"), ExtractSettings(), changed) == R.MIXED_DESCENT


@pytest.mark.parametrize("hostile", [
    b"<<" * 5_000_000,
    b"5 0 obj << /FontFile2 " + b"<<" * 5_000_000,
    b"/FontFile" * 1_000_000,
    b"1 0 obj " + b"/FontFile2 1 0 R /Descent " * 300_000 + b"endobj",
    b"/Type/ObjStm" * 800_000,
    b"/Descent" + b" " * 10_000_000,
    b"%d 0 obj" % 7 + b" " * 10_000_000 + b"/FontFile",
], ids=["dict-openers", "unterminated", "font-file-keys", "one-huge-object", "objstm-keys", "spaces", "far-obj"])
def test_a_crafted_file_gets_a_sane_answer_from_the_check(hostile):
    """Bounded work: each /FontFile key's object is looked for within `OBJECT_MAX` bytes,
    at most `DESCRIPTORS_MAX` of them, object streams' dictionaries within 4 KB."""
    assert R._descents(hostile) in (False, R.UNREAD_DESCRIPTOR)
    assert R._fractional_descent(hostile) is False


def test_a_key_written_with_escapes_sends_the_file_to_pdfminer():
    """`/D#65scent` is `/Descent` to both parsers; the checks on the bytes read names as
    written. An escaped font name (`/#E5#AE#8B#E4#BD#93`, WPS writes such) is no key."""
    descriptor = b"1 0 obj\n<< /Type /FontDescriptor /Ascent 0 /D#65scent -900 /FontBBox [0 -200 1000 900] /FontFile2 5 0 R >>\nendobj\n"
    assert R._descents(descriptor) == R.ESCAPED_NAME
    assert R._descents(descriptor.replace(b"/D#65scent", b"/Descent").replace(b"/Font#46ile2", b"/FontFile2")) is False
    assert R._descents(descriptor.replace(b"/FontFile2", b"/Font#46ile2").replace(b"/D#65scent", b"/Descent")) == R.ESCAPED_NAME
    assert not R._escaped_key(b"/BaseFont /ABCDEF+#E5#AE#8B#E4#BD#93 /Descent -200 #41")
    assert R._escaped_key(b"<< /#41scent 0 >>")


def test_a_libreoffice_pdf_whose_descents_are_hidden_by_escapes_gives_pdfminers_facts_with_either_engine():
    data = (ROOT / "data" / "sample" / "gen-2026-00100-2021.pdf").read_bytes()
    edited = re.sub(rb"/Descent 0\n/CapHeight (\d+)\n/StemV 80\n",
                    lambda m: (b"/D#65scent -900\n/CapHeight " + m[1] + b"\n").ljust(len(m[0])), data)
    assert edited != data and len(edited) == len(data)
    assert R.read_pages(Path("x.pdf"), ExtractSettings(), edited) == R.ESCAPED_NAME
    facts = {}
    for engine in ("pdfium", "pdfminer"):
        r = process_file(Path("x.pdf"), settings=ExtractSettings(pdf_engine=engine), data=edited)
        facts[engine] = [(f.table, f.item, f.column, f.value, f.flags) for f in r.facts]
    assert facts["pdfium"] == facts["pdfminer"]


def test_crafted_files_stop_the_byte_checks_and_go_to_pdfminer():
    """Bounded work: a /FontFile key far from any object head, and thousands of object
    streams, end the checks with a reason (the file goes to pdfminer)."""
    many_objs = b"1 0 obj\n" + b"obj" * 5000 + b"/FontFile endobj" * 1000
    assert R._descents(many_objs) == R.UNREAD_DESCRIPTOR
    streams = b"%PDF-1.7\n" + b"<< /Type /ObjStm /N 1 /First 4 >>\nstream\nx\x9c" * (R.OBJECT_STREAMS_MAX + 10)
    assert R._descents(streams) == R.UNREAD_DESCRIPTOR
