"""Reports printed to PDF from a browser (Chromium/Edge): the whole page (site menu, sidebar,
article, footer), tables broken across pages, and a ToUnicode map that spells ideographs as
radicals. The committed fixture needs no Chromium; one test prints a fresh report when
Chromium is installed."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pdfminer.high_level import extract_text

from common.text import has_radicals
from extract import ExtractSettings, read_document
from extract import pdfium as pdfium_reader
from extract.metadata import find_title, metadata_from_document
from extract.models import RawDocument
from extract.pdf import close_page_breaks, page_to_rows
from flows.generator import load_generator
from transform.pipeline import process_file
from transform.serialize import result_to_json

FIXTURE = Path(__file__).parent / "fixtures" / "generated" / "chromium-7-00048-2024.pdf"
ENGINES = ("pdfium", "pdfminer")
META = ("template", "year", "agency", "published", "region_code", "level", "body_type", "status")


def _wrong_cells(got: dict, truth: dict) -> list:
    values = {(f["table"], f["item"], f["column"]): f["value"] for f in got["facts"]}
    wrong = []
    for f in truth["facts"]:
        v = values.get((f["table"], f["item"], f["column"]), "missing")
        same = (v is None and f["value"] is None) or (
            v not in (None, "missing") and f["value"] is not None and math.isclose(v, f["value"], abs_tol=1e-9))
        if not same:
            wrong.append(((f["table"], f["item"], f["column"]), f["value"], v))
    return wrong


def _check_against_truth(doc: Path, engine: str) -> None:
    truth = json.loads(doc.with_name(doc.name.replace(".pdf", ".truth.json")).read_text(encoding="utf-8"))
    got = result_to_json(process_file(doc, ExtractSettings(pdf_engine=engine)))
    assert _wrong_cells(got, truth) == []
    assert len(got["facts"]) == len(truth["facts"])
    assert {k: got[k] for k in META} == {k: truth[k] for k in META}


@pytest.mark.parametrize("engine", ENGINES)
def test_chromium_printed_report_reads_every_cell_and_its_metadata_with_either_engine(engine):
    _check_against_truth(FIXTURE, engine)


def test_the_fixtures_tounicode_spells_ideographs_as_radicals_which_are_folded_on_reading():
    printed = extract_text(str(FIXTURE))  # pdfminer, no folding: what the ToUnicode map says
    assert {"\u2f2f", "\u2f08", "\u2ed4", "\u2f3e"} <= set(printed)  # ⼯ ⼈ ⻔ ⼾
    for engine in ENGINES:
        doc = read_document(FIXTURE, ExtractSettings(pdf_engine=engine))
        assert not has_radicals(doc.text)
        assert "中国重庆市门户网站" in doc.text.replace("\n", "")
        meta = metadata_from_document(doc)
        assert (meta.title, meta.agency, meta.year, meta.published) == (
            "重庆市渝中区民政局2024年政府信息公开工作年度报告", "重庆市渝中区民政局", 2024, dt.date(2025, 2, 7))


def test_pdfium_hands_a_page_in_type3_fonts_to_pdfminer_whose_boxes_it_cannot_measure():
    """Chromium prints Noto CJK as Type 3 fonts: PDFium's loose box of such a glyph is its
    ink (no font file), pdfminer's its advance; their descents differ too."""
    pdf = pdfium.PdfDocument(FIXTURE.read_bytes())
    try:
        assert pdfium_reader.read_page(pdf[0]) == pdfium_reader.TYPE3
    finally:
        pdf.close()


CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("name", ["shanghai-bgt-2019", "pingtan-2023"])
def test_a_real_report_printed_by_chromium_gives_the_same_facts_with_either_engine(tmp_path, name):
    """Read by PDFium's Type 3 boxes, the shanghai page's characters sat 0.12 em lower than
    pdfminer puts them: a header cell of 表三 fell into the row above and 14 facts named
    another source row (the values happened to agree)."""
    src = Path(__file__).parent / "fixtures" / "real" / f"{name}.html"
    pdf = tmp_path / f"{name}.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path}/profile",
                    f"--print-to-pdf={pdf}", src.as_uri()], check=True, capture_output=True, timeout=120)
    results = [result_to_json(process_file(pdf, ExtractSettings(pdf_engine=e))) for e in ENGINES]
    for r in results:
        r.pop("extracted_at", None)
    assert results[0]["facts"] == results[1]["facts"] and results[0] == results[1]


@pytest.mark.parametrize("text", [
    "热点信息\n关于做好2024年春节期间安全生产工作的通知\n通辽市财政局2019年政府信息公开工作年度报告\n发布时间：2020-01-17",
    "首页 > 政务公开\n通辽市财政局\n2019年政府信息公开工作年度报告",
    "通辽市财政局2019年政府信息公开工作\n年度报告",
    "关于印发通辽市财政局2019年政府信息公开工作年度报告的通知",
])
def test_title_starts_on_its_own_line_not_in_the_menu_or_sidebar_line_above(text):
    agency, year, title = find_title(text)
    assert (agency, year) == ("通辽市财政局", 2019)
    assert title.endswith("通辽市财政局2019年政府信息公开工作年度报告")


@pytest.mark.parametrize("text, agency", [
    ("2019年通辽市财政局政府信息公开工作年度报告", "通辽市财政局"),
    ("关于做好2024年春节期间安全生产工作的通知\n2019年通辽市财政局政府信息公开工作年度报告", "通辽市财政局"),
    ("新疆生产建设兵团第十三师新星市人民政府办公\n室2020年政府信息公开工作年度报告", "新疆生产建设兵团第十三师新星市人民政府办公室"),
    ("通辽市科尔沁区\n人民政府2019年政府信息公开工作年度报告", "通辽市科尔沁区人民政府"),
])
def test_title_wrapped_inside_the_body_name_or_with_the_body_after_the_year_keeps_it(text, agency):
    assert find_title(text)[0] == agency


def _chars(text: str, x: float, y: float, size: float = 10.0) -> list:
    return [(x + k * size, x + (k + 1) * size, y, y + size, c, size) for k, c in enumerate(text)]


def test_a_row_continued_on_a_new_page_without_its_top_rule_is_still_a_table_row():
    """A table broken across pages by Chromium: the verticals go up to the top of the page's
    part of the table, the rule above its first row is not drawn."""
    xs = (40.0, 200.0, 260.0)
    hsegs = [(700.0, 40.0, 260.0), (660.0, 40.0, 260.0)]  # the first row (700–740) has no top rule
    vsegs = [(x, 700.0, 740.0) for x in xs] + [(x, 660.0, 700.0) for x in xs]
    chars = _chars("1.其他", 45, 715) + _chars("7", 225, 715) + _chars("2.重复申请", 45, 675) + _chars("5", 225, 675)
    assert close_page_breaks(hsegs, vsegs)[-1] == (740.0, 40.0, 260.0)
    rows = page_to_rows(chars, hsegs, vsegs, 1)
    assert [[c.text for c in r.cells] for r in rows] == [["1.其他", "7"], ["2.重复申请", "5"]]


def test_rulings_that_close_their_table_add_nothing():
    hsegs = [(740.0, 40.0, 260.0), (700.0, 40.0, 260.0)]
    vsegs = [(40.0, 700.0, 740.0), (260.0, 700.0, 740.0)]
    assert close_page_breaks(hsegs, vsegs) == hsegs
    # one vertical alone sticking out (a decoration, a cell's overhang) is not a row either
    assert close_page_breaks(hsegs, vsegs + [(150.0, 700.0, 760.0)]) == hsegs


def test_metadata_of_a_printed_page_with_radicals_in_its_sidebar_and_title():
    text = "热点信息\n关于做好2024年春节期间安全⽣产⼯作的通知\n通辽市财政局2019年政府信息公开⼯作年度报告\n正⽂\n通辽市财政局\n2020年1⽉17⽇"
    meta = metadata_from_document(RawDocument(path=Path("x.pdf"), format="pdf", text=text))
    assert (meta.agency, meta.year, meta.published) == ("通辽市财政局", 2019, dt.date(2020, 1, 17))


def test_the_generator_refuses_chromium_when_it_is_not_installed(tmp_path, monkeypatch):
    gen = load_generator()
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no chromium, no google-chrome
    with pytest.raises(SystemExit, match="--pdf-engine chromium needs Chromium"):
        gen.generate(tmp_path / "out", 1, formats=("pdf",), pdf_engine="chromium")
    with pytest.raises(SystemExit, match="unknown --pdf-engine"):
        gen.generate(tmp_path / "out", 1, formats=("pdf",), pdf_engine="firefox")


@pytest.mark.skipif(not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
                    reason="Chromium is not installed")
def test_sample_pdf_engine_chromium_prints_the_html_page_and_it_reads_exactly(tmp_path):
    gen = load_generator()
    [doc] = gen.generate(tmp_path, 1, seed=7, start=2, formats=("pdf",), pdf_engine="chromium")
    data = doc.read_bytes()
    assert data[:5] == b"%PDF-" and b"Skia/PDF" in data
    # its only run-dependent bytes, the dates, are the publication day's (2020-01-17 for this one)
    assert b"/CreationDate (D:20200117093000+08'00')" in data and b"/ModDate (D:20200117093000+08'00')" in data
    for engine in ENGINES:
        _check_against_truth(doc, engine)
