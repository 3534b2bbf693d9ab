"""Report pages whose tables are pictures: the body's <img> read by OCR (local files beside
the page, confined to its directory; data: URIs; a crawled page's pictures fetched with it
into the raw store), with the same facts as the truth and every OCR'd value flagged `ocr`."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import truth_for
from extract.htmlimg import PAGE_IMAGES_DIR, data_uri, load_images, local_file
from extract.models import ExtractSettings
from transform.pipeline import process_file
from transform.serialize import result_to_json

PAGE = Path(__file__).parent / "fixtures" / "pictures" / "gen-11-00002-2024.html"
"""Made by data/generate.py (`picture_page(build(11, 2, "html"), …, tables=("t4",))`):
表二 and 表三 as HTML tables, 表四 as a degraded JPEG beside the page (relative src)."""
PICTURE = PAGE.parent / "gen-11-00002-2024_files" / "image001.jpg"
SRC = "gen-11-00002-2024_files/image001.jpg"


def _values(result: dict) -> dict:
    return {(f["table"], f["item"], f["column"]): f["value"] for f in result["facts"]}


def _truth_values() -> dict:
    return {(f["table"], f["item"], f["column"]): f["value"] for f in truth_for(PAGE)["facts"]}


def _assert_truth(got: dict) -> None:
    truth = truth_for(PAGE)
    assert (got["status"], got["year"], got["agency"]) == ("ok", truth["year"], truth["agency"])
    assert _values(got) == _truth_values()
    t4 = [f for f in got["facts"] if f["table"] == "t4"]
    assert t4 and all("ocr" in f["flags"] and f["page"] == 1 for f in t4)
    assert all("ocr" not in f["flags"] for f in got["facts"] if f["table"] != "t4")


def _page_with(src: str, into: Path) -> Path:
    page = into / "page.html"
    page.write_bytes(PAGE.read_bytes().replace(SRC.encode(), src.encode()))
    return page


# --- where a picture's bytes come from (no OCR) ------------------------------------------------

def test_a_src_leading_outside_the_pages_directory_is_refused_with_a_reason(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "secret.jpg").write_bytes(PICTURE.read_bytes())
    (site / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    (site / "ok.jpg").write_bytes(PICTURE.read_bytes())
    page = site / "page.html"
    page.write_bytes(b"<html><body></body></html>")
    got = {src: local_file(page, src) for src in ("../secret.jpg", "a/../../secret.jpg", str(tmp_path / "secret.jpg"),
                                                   "link.jpg", "file:///etc/passwd", "ok.jpg", "missing.jpg")}
    assert got["ok.jpg"] == (PICTURE.read_bytes(), None)
    for src in ("../secret.jpg", "a/../../secret.jpg", "link.jpg"):
        assert got[src] == (None, "path leads outside the page's directory: refused")
    assert got[str(tmp_path / "secret.jpg")][1].startswith("absolute path refused")
    assert got["file:///etc/passwd"][1].startswith("remote picture")
    assert got["missing.jpg"] == (None, "no such file beside the page")


def test_a_page_whose_only_picture_escapes_its_directory_says_so_in_its_reason(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "t4.jpg").write_bytes(PICTURE.read_bytes())
    got = result_to_json(process_file(_page_with("../t4.jpg", site)))
    assert got["status"] == "partial"
    assert "not found: 表四" in got["reason"]
    assert "pictures not read: img 1 (../t4.jpg): path leads outside the page's directory: refused" in got["reason"]


def test_a_data_uri_picture_is_decoded_and_a_malformed_one_is_a_reason():
    data = PICTURE.read_bytes()
    assert data_uri("data:image/jpeg;base64," + base64.b64encode(data).decode()) == (data, None)
    assert data_uri("data:image/jpeg;base64,@@@") == (None, "data: URI is not valid base64")
    assert data_uri("data:image/svg+xml,<svg/>") == (None, "data: URI not in base64")


def test_pictures_beyond_the_page_limits_are_not_read(tmp_path):
    from extract import htmlimg

    page = tmp_path / "p.html"
    page.write_bytes(b"x")
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8" + bytes(100))
    imgs = load_images(page, b"x", ["a.jpg"] * (htmlimg.MAX_IMAGES + 1) + [""])
    assert [i.refused for i in imgs[:htmlimg.MAX_IMAGES]] == [None] * htmlimg.MAX_IMAGES
    assert imgs[htmlimg.MAX_IMAGES].refused.startswith("more than")
    assert imgs[-1].refused.startswith("more than")


def test_a_src_that_is_a_fifo_a_folder_or_a_broken_link_is_named_for_what_it_is_and_never_blocks(tmp_path):
    import os

    page = tmp_path / "p.html"
    page.write_bytes(b"x")
    os.mkfifo(tmp_path / "pipe.jpg")  # opened for reading, a FIFO would wait for a writer forever
    (tmp_path / "dir.jpg").mkdir()
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    assert local_file(page, "pipe.jpg") == (None, "not a regular file (a FIFO) beside the page: not read")
    assert local_file(page, "dir.jpg") == (None, "not a regular file (a folder) beside the page: not read")
    assert local_file(page, "gone.jpg") == (None, "broken symbolic link beside the page: its target is missing")
    assert local_file(page, "missing.jpg") == (None, "no such file beside the page")


def test_refused_pictures_do_not_count_toward_the_page_limit_so_good_ones_after_them_are_read(tmp_path):
    from extract import htmlimg

    site = tmp_path / "site"
    site.mkdir()
    page = site / "p.html"
    page.write_bytes(b"x")
    (site / "a.jpg").write_bytes(b"\xff\xd8" + bytes(100))
    refused = ["../outside.jpg", "http://example.org/x.jpg", "", "missing.jpg"] * htmlimg.MAX_IMAGES
    imgs = load_images(page, b"x", refused + ["a.jpg"] * (htmlimg.MAX_IMAGES + 1))
    read = [i for i in imgs if i.data is not None]
    assert len(read) == htmlimg.MAX_IMAGES and all(i.src == "a.jpg" for i in read)
    assert not any(i.refused.startswith("more than") for i in imgs[: len(refused)])
    assert imgs[-1].refused == f"more than {htmlimg.MAX_IMAGES} pictures in the page: not read"


def test_a_page_whose_picture_src_is_a_fifo_says_fifo_in_its_reason(tmp_path):
    import os

    site = tmp_path / "site"
    site.mkdir()
    os.mkfifo(site / "t4.jpg")
    got = result_to_json(process_file(_page_with("t4.jpg", site)))
    assert got["status"] == "partial"
    assert "pictures not read: img 1 (t4.jpg): not a regular file (a FIFO) beside the page: not read" in got["reason"]


def test_a_page_with_a_data_uri_over_libxml2s_attribute_limit_is_still_read(tmp_path):
    # one attribute over 10 MB made libxml2 stop ("nested deeper than max_html_depth")
    big = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(7_600_000)).decode()
    got = result_to_json(process_file(_page_with(big, tmp_path), ExtractSettings(ocr=False)))
    assert got["status"] == "partial" and "nested" not in got["reason"]
    assert "pictures not read" in got["reason"]
    assert {f["table"] for f in got["facts"] if f["value"] is not None} >= {"t2", "t3"}


def test_with_ocr_off_a_picture_page_names_the_pictures_it_did_not_read_once():
    got = process_file(PAGE, ExtractSettings(ocr=False))
    assert got.status == "partial" and got.report.reason.endswith("; pictures not read: 1 (OCR is off)")
    assert got.report.reason.count("not read") == 1 and got.document.ocr_skipped is True


# --- read by OCR -------------------------------------------------------------------------------

def test_an_html_page_with_its_table_as_a_picture_gives_the_truth_with_ocr_flags():
    pytest.importorskip("rapidocr")
    _assert_truth(result_to_json(process_file(PAGE)))


class _Site(BaseHTTPRequestHandler):
    served: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        files = {"/nb/index.html": ('<html><body><ul><li><a href="/nb/2024.html">2024年政府信息公开工作年度报告</a>'
                                    "</li></ul></body></html>").encode(), "/nb/2024.html": PAGE.read_bytes(),
                 "/nb/" + SRC: PICTURE.read_bytes()}
        type(self).served.append(self.path)
        body = files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


def test_a_crawled_page_has_its_pictures_fetched_into_the_raw_store_and_read(tmp_path):
    from extract.crawl import Fetcher, RawStore, crawl_source, load_sources

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(f'[[sources]]\nslug = "pics"\nbody = "固安县卫生健康局"\n'
                       f'list_url = "http://127.0.0.1:{server.server_port}/nb/index.html"\n'
                       f'allowed_domains = ["127.0.0.1"]\nrate = 50.0\n', encoding="utf-8")
        source = load_sources(reg)[0]
        store = RawStore(tmp_path / "raw")
        rep = crawl_source(source, store, fetcher=Fetcher(allows=source.allows, rate=50.0, backoff=0.05))
    finally:
        server.shutdown()
    assert "/nb/" + SRC in _Site.served
    page = next(it for it in rep.items if it.kind == "report")
    image = next(it for it in rep.items if it.kind == "image")
    assert (page.status, page.document, image.status, image.document) == ("new", True, "new", False)
    assert [it.url for it in rep.documents()] == [page.url]
    stored = Path(page.path)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.stem == page.sha256  # the page as fetched
    mapping = json.loads((tmp_path / "raw" / PAGE_IMAGES_DIR / f"{page.sha256}.json").read_text(encoding="utf-8"))
    assert mapping == {"images": {SRC: hashlib.sha256(PICTURE.read_bytes()).hexdigest()}}
    pytest.importorskip("rapidocr")
    _assert_truth(result_to_json(process_file(stored, source=page.url)))


def test_a_run_records_the_pages_ocr_read_and_the_seconds_it_took_in_runs(tmp_path):
    pytest.importorskip("rapidocr")
    from flows.work import run_local
    from load.duckdb import connect_readonly

    docs = tmp_path / "docs"
    docs.mkdir()
    inline = "data:image/jpeg;base64," + base64.b64encode(PICTURE.read_bytes()).decode()
    _page_with(inline, docs)
    wh = tmp_path / "wh"
    run_local([str(docs)], str(wh))
    run_local([str(docs)], str(wh))  # unchanged: nothing read again
    con = connect_readonly(wh)
    rows = con.execute("select ok, unchanged, ocr_pages, ocr_seconds from runs order by started_at").fetchall()
    assert [r[:3] for r in rows] == [(1, 0, 1), (0, 1, 0)]
    assert 0 < rows[0][3] < 120 and rows[1][3] == 0


def test_only_the_report_containers_pictures_are_wanted_and_none_when_its_tables_are_html():
    from extract.html import wanted_pictures

    chrome = '<div class="header"><img src="/logo.png"></div>{}<div class="footer"><img src="/badge.gif"></div>'
    pictures = '<div id="zoom"><p>二、主动公开</p><img src="t2.jpg"><p>三、</p><img src="t3.png"></div>'
    assert wanted_pictures(f"<html><body>{chrome.format(pictures)}</body></html>".encode()) == ["t2.jpg", "t3.png"]
    assert wanted_pictures(f"<html><body>{chrome.format('<p>no container</p>')}</body></html>".encode()) == []
    assert wanted_pictures(PAGE.read_bytes()) == [SRC]  # 表四 is a picture
    sample = Path(__file__).parent.parent / "data" / "sample" / "gen-2026-00000-2023.html"
    assert wanted_pictures(sample.read_bytes()) == []  # every table in HTML: no picture fetched


def _copy_page(into: Path) -> Path:
    into.mkdir(parents=True)
    (into / PICTURE.parent.name).mkdir()
    (into / PICTURE.parent.name / PICTURE.name).write_bytes(PICTURE.read_bytes())
    page = into / PAGE.name
    page.write_bytes(PAGE.read_bytes())
    return page


def _blank_jpeg() -> bytes:
    import cv2
    import numpy as np

    return cv2.imencode(".jpg", np.full((400, 1000), 255, np.uint8))[1].tobytes()


def test_equal_pages_with_different_pictures_beside_them_are_two_documents(tmp_path):
    pytest.importorskip("rapidocr")
    one, two = _copy_page(tmp_path / "a"), _copy_page(tmp_path / "b")
    (two.parent / PICTURE.parent.name / PICTURE.name).write_bytes(_blank_jpeg())
    first, second = result_to_json(process_file(one)), result_to_json(process_file(two))
    assert one.read_bytes() == two.read_bytes() and first["sha256"] != second["sha256"]
    assert first["status"] == "ok" and second["status"] != "ok"  # 表四 is not in the blank picture
    assert result_to_json(process_file(one))["sha256"] == first["sha256"]  # the same page, the same identity


def test_a_picture_replaced_beside_an_unchanged_page_is_read_again_by_the_next_run(tmp_path):
    pytest.importorskip("rapidocr")
    from flows.work import run_local
    from load.duckdb import connect_readonly

    page = _copy_page(tmp_path / "docs")
    wh = tmp_path / "wh"
    run_local([str(page.parent)], str(wh))
    run_local([str(page.parent)], str(wh))  # nothing changed: not read again
    (page.parent / PICTURE.parent.name / PICTURE.name).write_bytes(_blank_jpeg())
    run_local([str(page.parent)], str(wh))
    con = connect_readonly(wh)
    try:
        runs = con.execute("select ok, partial, unchanged from runs order by started_at").fetchall()
        current = con.execute("select status from reports").fetchall()
    finally:
        con.close()
    assert [r[:3] for r in runs] == [(1, 0, 0), (0, 0, 1), (0, 1, 0)]
    assert current == [("partial",)]  # the page as it is now: its 表四 picture holds no table
