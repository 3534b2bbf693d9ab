"""Scans and pictures are read by OCR into the same rows as a text layer, and checked as
strictly: the same facts as the text layer, `ok` only when every cell is sure."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from extract.models import ExtractSettings, RawCell, RawRow
from transform.pipeline import process_file
from transform.serialize import result_to_json

FIXTURES = Path(__file__).parent / "fixtures"
HONGZE = FIXTURES / "real" / "hongze-2024.pdf"
SAMPLE_PDF = Path(__file__).parent.parent / "data" / "sample" / "gen-2026-00006-2022.pdf"  # 2 pages, ruled, dashes for zeros


def _cjk_font() -> bool:
    """A CJK font pdfium can substitute for the generator's non-embedded STSong-Light."""
    import shutil
    import subprocess

    fc = shutil.which("fc-list")
    return bool(fc) and bool(subprocess.run([fc, ":lang=zh"], capture_output=True, text=True).stdout.strip())


def _values(result: dict) -> dict:
    return {(f["table"], f["item"], f["column"]): f["value"] for f in result["facts"]}


def _scan(pdf: Path, out: Path, seed: int | None = None) -> Path:
    from flows.generator import load_generator

    rng = random.Random(seed) if seed is not None else None
    out.write_bytes(load_generator().scan_pdf(pdf.read_bytes(), rng))
    return out


# --- without the OCR engine: geometry, flags, settings ---------------------------------------

def test_boxes_in_ruled_bands_become_cells_and_free_boxes_text_lines():
    from extract.ocr import Box, bands_of, boxes_to_rows

    hsegs = [(100, 50, 300), (130, 50, 300)]
    vsegs = [(50, 100, 130), (150, 100, 130), (200, 100, 130), (300, 100, 130)]
    bands = bands_of(hsegs, vsegs)
    assert [len(b[2]) for b in bands] == [4]
    boxes = [Box(60, 105, 120, 120, "自然人", 0.99), Box(170, 105, 180, 120, "12", 1.0),
             Box(60, 40, 200, 55, "某县2020年政府信息公开工作年度报告", 0.98)]
    rows, empty = boxes_to_rows(boxes, bands, 1, 0.9)
    assert [[c.text for c in r.cells] for r in rows] == [["某县2020年政府信息公开工作年度报告"], ["自然人", "12", ""]]
    assert rows[1].cells[1].confidence == 1.0 and not rows[1].cells[1].doubtful
    assert [c for c, _, _ in empty] == [rows[1].cells[2]]


def test_a_vertical_stroke_that_does_not_end_on_rulings_splits_no_cell():
    from extract.ocr import bands_of

    hsegs = [(100, 50, 300), (130, 50, 300)]
    vsegs = [(50, 100, 130), (300, 100, 130), (120, 90, 140)]  # 90..140: a column of stacked characters
    assert [b[2] for b in bands_of(hsegs, vsegs)] == [[50, 300]]


def test_digits_on_two_lines_of_a_cell_join_only_when_the_first_line_fills_it():
    from extract.ocr import Box, _cell

    wrapped = _cell([Box(0, 0, 38, 10, "123", 1.0), Box(0, 12, 10, 22, "4", 1.0)], 0, 40, 0.9)
    apart = _cell([Box(0, 0, 12, 10, "12", 1.0), Box(0, 12, 10, 22, "3", 1.0)], 0, 40, 0.9)
    assert (wrapped.text, apart.text) == ("1234", "12 3")


def test_a_cell_below_the_confidence_threshold_is_flagged_and_its_value_not_taken():
    from extract.ocr import Box, _cell
    from transform.templates import load_templates
    from transform.tidy import Slot, slot_to_fact

    cell = _cell([Box(0, 0, 10, 10, "8", 0.62)], 0, 40, 0.9)
    assert cell.doubtful and cell.confidence == 0.62
    spec = load_templates().t3
    fact = slot_to_fact(Slot("t3", "granted", "natural_person", cell=cell), spec, "r", "x")
    assert fact.value is None and fact.confidence == 0.62
    assert {"ocr", "low_confidence", "unreadable"} <= set(fact.flags)
    sure = slot_to_fact(Slot("t3", "granted", "natural_person", cell=RawCell("8", confidence=0.99)), spec, "r", "x")
    assert (sure.value, sure.flags) == (8, ["ocr"])


def test_a_scan_is_unsupported_with_ocr_off(tmp_path):
    pytest.importorskip("pypdfium2")
    scan = _scan(SAMPLE_PDF, tmp_path / "scan.pdf")
    got = result_to_json(process_file(scan, ExtractSettings(ocr=False)))
    assert (got["status"], got["reason"]) == ("unsupported", "no text layer (scanned or blank pages) (OCR is off)")


def test_an_image_is_unsupported_with_ocr_off(tmp_path):
    png = tmp_path / "table.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    got = result_to_json(process_file(png, ExtractSettings(ocr=False)))
    assert (got["status"], got["format"]) == ("unsupported", "image")
    assert "OCR is off" in got["reason"]


def test_ocr_rows_are_shaped_like_the_pdf_readers():
    row = RawRow(cells=[RawCell("自然人", 10.0, 20.0, confidence=0.99)], page=1)
    assert row.text() == "自然人"


# --- with the OCR engine ----------------------------------------------------------------------

@pytest.mark.slow
def test_a_scanned_real_report_gives_the_text_layers_facts(tmp_path):
    pytest.importorskip("rapidocr")
    plain = result_to_json(process_file(HONGZE))
    scan = result_to_json(process_file(_scan(HONGZE, tmp_path / "hongze-scan.pdf", seed=3)))
    meta = ("status", "template", "year", "agency", "region_code", "level", "body_id")
    assert {k: scan[k] for k in meta} == {k: plain[k] for k in meta}
    assert scan["status"] == "ok"
    assert _values(scan) == _values(plain)
    read = [f for f in scan["facts"] if f["raw"]]
    assert read and all("ocr" in f["flags"] and f["confidence"] >= 0.9 for f in read)


@pytest.mark.slow
def test_a_scanned_generated_report_gives_its_truth(tmp_path):
    pytest.importorskip("rapidocr")
    if not _cjk_font():
        pytest.skip("no CJK font installed: the generated PDF's Chinese text would render blank")
    from conftest import truth_for

    pdf = SAMPLE_PDF
    got = result_to_json(process_file(_scan(pdf, tmp_path / "scan.pdf", seed=5)))
    truth = truth_for(pdf)
    assert (got["status"], got["year"], got["agency"]) == (truth["status"], truth["year"], truth["agency"])
    assert _values(got) == {(f["table"], f["item"], f["column"]): f["value"] for f in truth["facts"]}


@pytest.mark.slow
def test_a_picture_of_a_table_is_read_like_its_page(tmp_path):
    pytest.importorskip("rapidocr")
    from flows.generator import load_generator

    gen = load_generator()
    pages = gen.page_images(HONGZE.read_bytes())
    png = tmp_path / "page3.jpg"
    png.write_bytes(gen.jpeg(pages[2][0], 85))
    got = result_to_json(process_file(png))
    plain = _values(result_to_json(process_file(HONGZE)))
    t3 = {k: v for k, v in _values(got).items() if k[0] == "t3"}
    assert got["format"] == "image"
    read = {k: v for k, v in t3.items() if v is not None}
    assert len(read) >= 80 and all(plain[k] == v for k, v in read.items())


def test_an_image_claiming_a_billion_pixels_is_refused_before_decoding(tmp_path):
    pytest.importorskip("rapidocr")
    png = tmp_path / "bomb.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (50_000).to_bytes(4, "big") * 2 + bytes(64))
    got = result_to_json(process_file(png))
    assert got["status"] == "failed" and "exceeds" in got["reason"]


def test_a_picture_too_long_to_scale_is_refused_in_one_line_not_shrunk_to_nothing(tmp_path):
    pytest.importorskip("rapidocr")
    from PIL import Image

    png = tmp_path / "strip.png"
    Image.new("L", (1057, 40000), 255).save(png)
    got = result_to_json(process_file(png))
    assert got["status"] == "failed" and "1057x40000" in got["reason"] and "\n" not in got["reason"]


def test_a_short_wide_strip_of_a_table_is_decoded_as_it_is():
    pytest.importorskip("rapidocr")
    import cv2
    import numpy as np

    from extract.image import decode_image

    ok, png = cv2.imencode(".png", np.full((167, 1057), 255, np.uint8))  # 表二 cut into five pictures
    assert decode_image(Path("strip.png"), png.tobytes()).shape == (167, 1057)


def test_a_page_a_metre_wide_is_rendered_smaller_for_ocr_not_at_900_million_pixels():
    from extract.image import MAX_PAGE_SIDE, render_scale

    assert render_scale((595, 842), 150 / 72) == 150 / 72  # A4 as asked
    assert render_scale((14400, 14400), 150 / 72) * 14400 == pytest.approx(MAX_PAGE_SIDE)


def test_a_scanned_pdf_page_of_200_inches_is_read_without_running_out_of_memory(tmp_path):
    pytest.importorskip("rapidocr")
    from PIL import Image

    pdf = tmp_path / "huge-page.pdf"
    Image.new("L", (200, 200), 255).save(pdf, resolution=1)  # one 14,400 pt page holding an image
    got = result_to_json(process_file(pdf, ExtractSettings(max_memory_mb=None)))
    assert got["status"] in ("failed", "unsupported") and "internal error" not in (got["reason"] or "")


def test_an_engine_message_becomes_its_first_line():
    from extract.errors import one_line

    assert one_line("\n  RuntimeException: bad_alloc\nTraceback (most recent call last):\n ...") == \
        "RuntimeException: bad_alloc"


def test_bytes_that_only_look_like_an_image_fail_with_a_reason(tmp_path):
    pytest.importorskip("rapidocr")
    jpg = tmp_path / "broken.jpg"
    jpg.write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    got = result_to_json(process_file(jpg))
    assert (got["status"], got["reason"]) == ("failed", "not a readable image")


def test_a_low_bar_is_a_dash_and_a_leaning_stroke_a_slash_but_an_upright_one_is_a_one():
    np = pytest.importorskip("numpy")
    pytest.importorskip("cv2")
    from extract.ocr import is_dash, is_slash

    bar = np.zeros((20, 30), bool)
    bar[9:11, 10:16] = True
    one = np.zeros((24, 30), bool)
    one[2:20, 14:16] = True
    one[19:21, 10:20] = True  # its foot
    slash = np.zeros((24, 30), bool)
    for y in range(2, 22):
        slash[y, 20 - y // 2:22 - y // 2] = True
    assert is_dash(bar) and not is_dash(one) and not is_dash(slash)
    assert is_slash(slash) and not is_slash(one)


def _page_with_a_line(np):
    """A white 200x400 image (scale 1: points are pixels), one text line at y 40–60: a label
    box at x 10–60 and a number box at x 100–120 (their ink drawn inside the boxes)."""
    from extract.ocr import Box

    gray = np.full((200, 400), 255, np.uint8)
    gray[42:58, 12:58] = 0
    gray[42:58, 108:112] = 0
    boxes = [Box(10, 40, 60, 60, "自然人", 0.99), Box(100, 40, 120, 60, "1", 0.99)]
    return gray, boxes


def test_a_lone_low_bar_in_an_unruled_row_is_a_dash_cell_and_other_strokes_are_not():
    np = pytest.importorskip("numpy")
    pytest.importorskip("cv2")
    from extract.ocr import boxes_to_rows, stray_dashes

    gray, boxes = _page_with_a_line(np)
    gray[49:52, 150:166] = 0  # a dash at mid-height, alone: a blank cell
    gray[49:52, 200:216] = 0  # a dash with a speck beside it: not alone
    gray[47:49, 222:224] = 0
    gray[42:45, 250:266] = 0  # a bar at the top of the line: not a dash
    gray[49:52, 280:380] = 0  # too long: a ruling, not a dash
    gray[149:152, 150:166] = 0  # in no text line
    gray[49:51, 2:8] = 0  # left of the line's label
    found = stray_dashes(gray, 1.0, boxes, boxes, bands=[])
    assert [(b.text, b.x0, b.x1, b.y0, b.y1) for b in found] == [("—", 150, 166, 40, 60)]
    rows, _ = boxes_to_rows(boxes + found, [], 1, 0.9)
    assert [c.text for c in rows[0].cells] == ["自然人", "1", "—"]
    assert stray_dashes(gray, 1.0, boxes, boxes, bands=[(30.0, 70.0, [0.0, 400.0])]) == []  # ruled: recheck's


def test_a_doubtful_box_whose_ink_is_one_low_bar_is_a_sure_dash_but_a_faint_one_stays_doubtful():
    np = pytest.importorskip("numpy")
    pytest.importorskip("cv2")
    from extract.ocr import Box, flat_dashes

    gray, _ = _page_with_a_line(np)
    gray[49:52, 150:166] = 0
    gray[42:58, 208:210] = 0  # an upright stroke: a faint 1
    bar, one, sure = Box(148, 40, 168, 60, "一", 0.45), Box(200, 40, 218, 60, "1", 0.6), Box(100, 40, 120, 60, "-", 0.99)
    flat_dashes(gray, 1.0, [bar, one, sure], 0.9)
    assert (bar.text, bar.score) == ("—", 1.0)
    assert (one.text, one.score) == ("1", 0.6) and one.doubtful(0.9)


def test_a_doubtful_number_is_confirmed_only_by_a_second_read_of_the_same_digits():
    from extract.ocr import Box, _cell, same_reading

    assert same_reading("1", "1", 0.8) and same_reading("1,234", "1234", 0.95)
    assert not same_reading("1", "7", 0.99)  # two readings: never chosen between
    assert not same_reading("12", "12", 0.3)  # the second read too unsure
    assert not same_reading("1", "1l", 0.9) and not same_reading("一", "一", 0.9)  # not numbers
    faint = Box(10, 0, 20, 10, "1", 0.8)
    assert _cell([faint], 0, 30, 0.9).doubtful
    faint.confirmed = True
    assert not _cell([faint], 0, 30, 0.9).doubtful


def test_a_character_the_detector_missed_in_an_unruled_row_is_read_or_flagged_never_left_out():
    np = pytest.importorskip("numpy")
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("rapidocr")
    from extract.ocr import stray_numbers

    gray, boxes = _page_with_a_line(np)
    cv2.putText(gray, "7", (160, 58), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 2)
    gray[50:52, 300:302] = 0  # a speck: noise, not a character
    found = stray_numbers(gray, 1.0, boxes, boxes, [], 0.9)
    assert len(found) == 1 and 150 <= found[0].x0 <= found[0].x1 <= 180
    assert (found[0].text, found[0].score >= 0.9) in (("7", True), ("?", False))


def test_a_rows_dashes_that_hang_below_its_line_rejoin_it_but_not_a_line_they_would_overlap():
    from extract.ocr import Box, _lines, dash_lines_joined

    label, num = Box(10, 40, 60, 60, "自然人", 0.99), Box(100, 42, 110, 60, "0", 0.99)
    low = [Box(150, 50, 166, 70, "—", 1.0), Box(200, 50, 216, 70, "—", 1.0)]
    lines = _lines([label, num, *low])
    assert len(lines) == 2  # the dashes' boxes sit too low for `_lines`
    assert [[b.text for b in ln] for ln in dash_lines_joined(lines)] == [["自然人", "0", "—", "—"]]
    under = [Box(95, 50, 115, 70, "—", 1.0)]  # under the number: another row's, not this one's
    assert len(dash_lines_joined(_lines([label, num, *under]))) == 2
    far = [Box(150, 90, 166, 110, "—", 1.0)]
    assert len(dash_lines_joined(_lines([label, num, *far]))) == 2


def test_an_unruled_scan_with_dashes_for_blanks_gives_its_truth():
    """An unruled scan whose blank cells print `—` (tests/fixtures/generated/SOURCES.md):
    every dash is found in the image, so each row's numbers get their columns."""
    pytest.importorskip("rapidocr")
    from conftest import truth_for

    pdf = FIXTURES / "generated" / "scan-unruled-7-00048-2024.pdf"
    got = result_to_json(process_file(pdf))
    truth = truth_for(pdf)
    assert (got["status"], got["year"], got["agency"]) == ("ok", truth["year"], truth["agency"])
    assert _values(got) == {(f["table"], f["item"], f["column"]): f["value"] for f in truth["facts"]}


def test_a_box_read_as_one_whose_ink_leans_is_a_slash_but_an_upright_one_stays_a_one():
    np = pytest.importorskip("numpy")
    pytest.importorskip("cv2")
    from extract.ocr import Box, flat_dashes

    gray, _ = _page_with_a_line(np)
    for y in range(42, 58):
        gray[y, 160 - (y - 42) // 2:162 - (y - 42) // 2] = 0  # a '/'
    gray[42:58, 208:210] = 0  # a '1'
    slash, one = Box(148, 40, 168, 60, "1", 0.97), Box(200, 40, 218, 60, "1", 0.99)
    flat_dashes(gray, 1.0, [slash, one], 0.9)
    assert (slash.text, one.text) == ("/", "1")


def test_a_scan_left_unread_by_no_ocr_is_read_by_the_next_run_with_ocr_on(tmp_path):
    pytest.importorskip("rapidocr")
    import subprocess
    import sys

    from load.duckdb import connect_readonly

    inbox = tmp_path / "in"
    inbox.mkdir()
    _scan(SAMPLE_PDF, inbox / "scan.pdf")
    wh = tmp_path / "wh"
    root = Path(__file__).resolve().parent.parent

    def run(*extra: str) -> tuple[str, str]:
        subprocess.run([sys.executable, "-m", "flows.cli", "run", str(inbox), "-w", str(wh), *extra],
                       capture_output=True, text=True, cwd=root, check=True)
        con = connect_readonly(wh)
        try:
            return con.execute("SELECT status, reason FROM documents").fetchall()[0]
        finally:
            con.close()

    assert run("--no-ocr") == ("unsupported", "no text layer (scanned or blank pages) (OCR is off)")
    status, _ = run()  # not "unchanged": OCR was off, not the document unreadable
    assert status == "ok"
