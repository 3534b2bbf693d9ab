"""The fast content-stream interpreter gives exactly what pdfminer's own gives."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pdfminer.converter import PDFPageAggregator
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.psparser import KWD, LIT

from conftest import FIXTURES
from extract.pdf import _collect
from extract.pdfstream import FastPDFPageInterpreter, tokens

ROOT = Path(__file__).resolve().parent.parent
PDFS = sorted((FIXTURES / "real").glob("*.pdf")) + sorted((ROOT / "data" / "sample").glob("gen-*.pdf"))[:6]


def _pages(path: Path, cls) -> list:
    doc = PDFDocument(PDFParser(BytesIO(path.read_bytes())))
    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=None)
    interp = cls(rsrc, device)
    out = []
    for page in PDFPage.create_pages(doc):
        interp.process_page(page)
        chars, hsegs, vsegs = _collect(device.get_result())
        out.append((sorted(chars), sorted(hsegs), sorted(vsegs)))
    return out


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.name)
def test_fast_interpreter_yields_the_same_chars_and_rulings_as_pdfminer(pdf):
    assert _pages(pdf, FastPDFPageInterpreter) == _pages(pdf, PDFPageInterpreter)


def test_tokenizer_reads_strings_names_numbers_arrays_and_dicts():
    data = rb"""/F1 7.5 Tf [(a\(b\)) -250 (c(d)e) <4E2D 6587>] TJ /Na#20me (x\101\
y\n) Tj -.5 +3 1. BDC <</MCID 3 /Alt (t)>> BDC true false % comment
BI /W 2 /H 2 /BPC 8 ID \x00\x01EI\x02 EI Q"""
    got = list(tokens(data))
    assert got[:3] == [LIT("F1"), 7.5, KWD(b"Tf")]
    assert got[3] == [b"a(b)", -250, b"c(d)e", "中文".encode("utf-16-be")]
    assert got[4] == KWD(b"TJ")
    assert got[5] == LIT("Na me") and got[6] == b"xAy\n"
    assert got[8:11] == [-0.5, 3, 1.0]
    assert got[12] == {"MCID": 3, "Alt": b"t"}
    assert got[14:16] == [True, False]
    assert got[-1] == KWD(b"Q")  # the inline image (BI … ID … EI) is skipped whole
