"""The two PDF readers, pdfminer.six (the reference) and PDFium (pypdfium2), give the same
facts and flags on every PDF of the repository and on freshly generated ones; at the seam
(characters and ruling segments per page) they agree too, with the page's MediaBox
offset, /Rotate, form XObjects, rectangles drawn as lines and as `re`.

Where PDFium cannot see a page exactly as pdfminer does, the document is read by pdfminer
(`read_pages` returns the reason): those cases are asserted here by name, so a change in
either library that moves a document from one side to the other is noticed."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pdfminer.converter import PDFPageAggregator
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from common.text import fold_radicals
from extract import ExtractSettings, RawDocument
from extract import pdfium as pdfium_reader
from extract.pdf import _collect
from extract.pdfstream import FastPDFPageInterpreter
from flows.generator import load_generator
from transform.pipeline import process_file
from transform.serialize import result_to_json

ROOT = Path(__file__).resolve().parent.parent
REPO_PDFS = sorted((ROOT / "data" / "sample").glob("*.pdf")) + sorted(
    p for p in (ROOT / "tests" / "fixtures").rglob("*.pdf") if not p.name.startswith("scan-"))
"""The repository's PDFs with a text layer (`scan-*.pdf` are image-only: read by OCR, in
tests/test_ocr.py)."""
PDFMINER = ExtractSettings(pdf_engine="pdfminer")
PDFIUM = ExtractSettings(pdf_engine="pdfium")
READ_BY_PDFIUM = {"hongze-2024.pdf", "gen-2026-00100-2021.pdf", "gen-2026-00101-2021.pdf", "gen-2026-00102-2021.pdf",
                  "gen-2026-00103-2024.pdf", "gen-11-00003-2025.pdf", "gen-12-00146-2024.pdf",
                  "gen-12-00155-2021.pdf", "digits-apart-2023.pdf", "t2-rowspan-number-2023.pdf"}
"""Real (WPS, embedded CID fonts) and LibreOffice PDFs (embedded fonts): PDFium reads them
itself. The reportlab ones print in STSong-Light without embedding it: PDFium would measure
a system font in its place (where there is one: 4 % wider digits moved a gap across the
line-splitting threshold in 2 of 200 generated documents; where there is none it has no
glyph for a character printed alone and leaves it out), so the reader hands them to
pdfminer. The LibreOffice prints of tests/fixtures/adversarial (digits-apart-2023.pdf,
t2-rowspan-number-2023.pdf) PDFium reads too."""
HANDED_OVER = "a font that is not embedded"
FRACTIONAL_DESCENT = {"chromium-7-00048-2024.pdf"}
"""Chromium embeds its Latin TrueType font with /Descent -216.30859, which PDFium truncates:
handed to pdfminer like reportlab's fractional descents (extract/pdfium.py)."""
TYPE3 = {"chromium-7-00048-2024.pdf", "t3-columns-swapped-2023.pdf", "t2-footnote-mark-2023.pdf",
         "title-other-body-printed-2023.pdf"}
"""Chromium prints CFF fonts (Noto CJK) as Type 3 fonts: PDFium boxes a Type 3 glyph by its
ink, pdfminer by its advance and the /FontBBox (up to 0.18 em apart): handed to pdfminer
(tests/test_chromium_printed.py shows a real report's rows moving)."""


def _result(path: Path, settings: ExtractSettings) -> dict:
    return result_to_json(process_file(path, settings))


def test_the_repository_has_the_pdfs_this_test_compares():
    names = {p.name for p in REPO_PDFS}
    assert READ_BY_PDFIUM <= names and len(REPO_PDFS) >= 14


@pytest.mark.parametrize("path", REPO_PDFS, ids=lambda p: p.name)
def test_both_engines_give_identical_results_on_every_repository_pdf(path):
    assert _result(path, PDFIUM) == _result(path, PDFMINER)


@pytest.mark.parametrize("path", REPO_PDFS, ids=lambda p: p.name)
def test_pdfium_reads_pdfs_with_embedded_fonts_itself_and_hands_what_it_cannot_see_to_pdfminer(path):
    got = pdfium_reader.read_pages(path, PDFIUM, path.read_bytes())
    if path.name in READ_BY_PDFIUM:
        assert isinstance(got, RawDocument), got
    elif path.name in FRACTIONAL_DESCENT:
        assert isinstance(got, str) and "fractional /Descent" in got
    elif path.name in TYPE3:
        assert isinstance(got, str) and got.endswith(pdfium_reader.TYPE3)
    else:
        assert isinstance(got, str) and HANDED_OVER in got


def test_both_engines_agree_on_freshly_generated_ruled_and_unruled_pdfs(tmp_path):
    """Facts and flags; and at the seam, every page PDFium reads itself (the generator's
    reportlab PDFs print their tables in STSong-Light, not embedded: see READ_BY_PDFIUM)."""
    gen = load_generator()
    paths = gen.generate(tmp_path, 6, seed=50, broken_share=0.3, formats=("pdf",))
    assert {gen.build(50, int(p.name.split("-")[2]), "pdf", 0.3).style.ruled for p in paths} == {True, False}
    for p in paths:
        assert _result(p, PDFIUM) == _result(p, PDFMINER), p.name
        data = p.read_bytes()
        for k, (pa, pb) in enumerate(zip(_pdfminer_pages(data), _pdfium_pages(data)), start=1):
            if isinstance(pb, str):
                assert HANDED_OVER in pb
            else:
                _same_collection(pa, pb)


# --- the seam: characters and ruling segments per page ----------------------------------

def _pdfminer_pages(data: bytes) -> list:
    doc = PDFDocument(PDFParser(io.BytesIO(data)))
    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=None)
    interp = FastPDFPageInterpreter(rsrc, device)
    pages = []
    for page in PDFPage.create_pages(doc):
        interp.process_page(page)
        pages.append(_collect(device.get_result()))
    return pages


def _pdfium_pages(data: bytes) -> list:
    zero_descent = pdfium_reader._descents(data)
    assert not isinstance(zero_descent, str), zero_descent
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdfium_reader.read_page(pdf[i], zero_descent=zero_descent) for i in range(len(pdf))]
    finally:
        pdf.close()


def _same_collection(a: tuple, b: tuple) -> None:
    """What `page_to_rows` depends on agrees to a tolerance far below its own (1.5 pt
    snapping of rulings, 0.4 × size line grouping, 0.5 × size gaps): each character's text,
    left edge (3 % of the font size), right edge (10 %: PDFium's advance can differ from the
    width pdfminer uses, by 1 % in an embedded font and by 4 % where a font that is not
    embedded is substituted), size (1 %), its vertical centre (0.25 × size: the box
    below the baseline is the font's descent, which pdfminer takes from the font descriptor
    or its AFM metrics and PDFium from the descriptor or the font file; on a page with
    /Rotate that shows in x), and every ruling (0.01 pt: PDFium computes in single
    precision). A character's text is compared with radicals folded: in a Chromium-printed
    PDF pdfminer reads the ToUnicode map (⼯), PDFium the /ActualText (工)."""
    (ca, ha, va), (cb, hb, vb) = a, b
    assert len(ca) == len(cb) and len(ha) == len(hb) and len(va) == len(vb)
    by_text: dict[str, list] = {}
    for y in cb:
        by_text.setdefault(y[4], []).append(y)
    for x in ca:
        em = max(x[1] - x[0], x[3] - x[2])  # the font size, also where the page's /Rotate turned the text
        match = next((y for y in by_text.get(fold_radicals(x[4]), ()) if abs(x[0] - y[0]) <= 0.03 * em
                      and abs(x[1] - y[1]) <= 0.1 * em and abs(x[5] - y[5]) <= 0.01 * x[5]
                      and abs((x[2] + x[3]) / 2 - (y[2] + y[3]) / 2) <= 0.25 * em), None)
        assert match is not None, x
        by_text[fold_radicals(x[4])].remove(match)
    for sa, sb in ((ha, hb), (va, vb)):
        left = sorted(sb)
        for x in sorted(sa):
            match = next((y for y in left if all(abs(p - q) <= 0.01 for p, q in zip(x, y))), None)
            assert match is not None, x
            left.remove(match)


def _same_pages(data: bytes) -> None:
    a = _pdfminer_pages(data)
    b = _pdfium_pages(data)
    assert len(a) == len(b)
    for k, (pa, pb) in enumerate(zip(a, b), start=1):
        assert not isinstance(pb, str), f"page {k}: {pb}"
        _same_collection(pa, pb)


WIDE_GLYPH = {"digits-apart-2023.pdf", "t2-rowspan-number-2023.pdf"}
"""One character of these LibreOffice prints (其 of 六、其他需要报告的事项, page 5) is 1.46 pt
(0.12 em) wider in PDFium than in pdfminer, past the seam's 10 % tolerance; the other
characters (3,164 in digits-apart-2023.pdf) and every ruling agree, and so do the facts."""


@pytest.mark.parametrize("path", [p for p in REPO_PDFS if p.name in READ_BY_PDFIUM - WIDE_GLYPH],
                         ids=lambda p: p.name)
def test_both_engines_collect_the_same_chars_and_rulings_from_repository_pdfs(path):
    _same_pages(path.read_bytes())


def _table(c: canvas.Canvas, x: float, y: float, how: str) -> None:
    """A 3 × 3 ruled table with numbers, its rulings drawn `how`."""
    xs, ys = [x, x + 120, x + 200, x + 280], [y, y - 20, y - 40, y - 60]
    if how == "re":
        for x0, x1 in zip(xs, xs[1:]):
            for y0, y1 in zip(ys, ys[1:]):
                c.rect(x0, y1, x1 - x0, y0 - y1, stroke=1, fill=0)
    elif how == "lines":
        for yy in ys:
            c.line(xs[0], yy, xs[-1], yy)
        for xx in xs:
            c.line(xx, ys[0], xx, ys[-1])
    elif how == "thin-rects":
        for yy in ys:
            c.rect(xs[0], yy - 0.25, xs[-1] - xs[0], 0.5, stroke=0, fill=1)
        for xx in xs:
            c.rect(xx - 0.25, ys[-1], 0.5, ys[0] - ys[-1], stroke=0, fill=1)
    elif how == "closed-path":
        p = c.beginPath()
        p.moveTo(xs[0], ys[0])
        p.lineTo(xs[-1], ys[0])
        p.lineTo(xs[-1], ys[-1])
        p.lineTo(xs[0], ys[-1])
        p.close()
        p.moveTo(xs[1], ys[0])
        p.lineTo(xs[1], ys[-1])
        p.curveTo(xs[1] + 5, ys[-1] - 5, xs[2] - 5, ys[-1] - 5, xs[2], ys[-1])
        c.drawPath(p, stroke=1, fill=0)
    c.setFont("Helvetica", 10)  # how == "none": an unruled table, text positions only
    for i, yy in enumerate(ys[1:]):
        c.drawString(xs[0] + 3, yy + 6, f"row {i}")
        c.drawRightString(xs[2] - 3, yy + 6, str(12 * i + 3))
        c.setFont("Helvetica", 7 if i == 1 else 10)
        c.drawRightString(xs[3] - 3, yy + 6, f"{1000 + i}.5")
        c.setFont("Helvetica", 10)


def _crafted(rotate: int = 0, form: bool = False) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if rotate:
        c.setPageRotation(rotate)
    for k, how in enumerate(("re", "lines", "thin-rects", "closed-path", "none")):
        if form:
            c.beginForm(f"t{k}")
            _table(c, 60, 790 - 150 * k, how)
            c.endForm()
            c.saveState()
            c.transform(0.9, 0, 0, 0.9, 20, 30)
            c.doForm(f"t{k}")
            c.restoreState()
        else:
            _table(c, 60, 790 - 150 * k, how)
    c.showPage()
    c.save()
    return buf.getvalue()


def _shift_mediabox(data: bytes, dx: float, dy: float) -> bytes:
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    x0, y0, x1, y1 = page.get_mediabox()
    page.set_mediabox(x0 + dx, y0 + dy, x1 + dx, y1 + dy)
    out = io.BytesIO()
    pdf.save(out)
    page.close()
    pdf.close()
    return out.getvalue()


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_both_engines_collect_the_same_chars_and_rulings_on_a_rotated_page(rotate):
    _same_pages(_crafted(rotate))


def test_both_engines_collect_the_same_chars_and_rulings_inside_form_xobjects():
    _same_pages(_crafted(form=True))


def test_both_engines_collect_the_same_chars_and_rulings_with_a_mediabox_off_the_origin():
    _same_pages(_shift_mediabox(_crafted(), 30, -45))


def test_a_pdf_pdfium_cannot_open_is_read_by_pdfminer_with_pdfminers_reason():
    broken = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
    got = pdfium_reader.read_pages(Path("broken.pdf"), PDFIUM, broken)
    assert isinstance(got, str)
    a = result_to_json(process_file(Path("broken.pdf"), PDFIUM, data=broken))
    b = result_to_json(process_file(Path("broken.pdf"), PDFMINER, data=broken))
    assert a["status"] == b["status"] == "failed" and a["reason"] == b["reason"]


def test_a_text_object_drawn_twice_at_one_place_is_read_by_pdfminer():
    """PDFium's text page drops the second copy of a text object drawn over the first (a
    fake bold); pdfminer keeps both. The reader notices the missing object and hands the
    document to pdfminer, so both engines still give the same (pdfminer's) characters."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 10)
    c.drawString(100, 700, "12")
    c.drawString(100.2, 700, "12")
    c.showPage()
    c.save()
    data = buf.getvalue()
    got = pdfium_reader.read_pages(Path("bold.pdf"), PDFIUM, data)
    assert isinstance(got, str) and "missing from PDFium's text page" in got


def test_a_decompression_bomb_is_read_by_pdfminer_which_stops_at_the_memory_limit():
    """PDFium aborts its process when an allocation fails; pdfminer raises MemoryError and
    the document is quarantined naming `max_memory_mb` (tests/test_hostile.py)."""
    import hostile

    bomb = hostile.pdf_flate_bomb(50)
    assert pdfium_reader.read_pages(Path("bomb.pdf"), PDFIUM, bomb) == "a stream inflates over 100-fold (a decompression bomb?)"
    for path in REPO_PDFS:
        assert not pdfium_reader._inflates_like_a_bomb(path.read_bytes()), path.name


def test_pdf_engine_must_be_one_of_the_two():
    with pytest.raises(ValueError, match="pdf_engine"):
        ExtractSettings(pdf_engine="poppler")
