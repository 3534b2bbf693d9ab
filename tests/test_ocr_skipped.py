"""A document left unread because OCR was off or not installed (a scan, an image file, a
page whose tables are pictures) says so in a typed column, `documents.ocr_skipped`, so the
next run with OCR on reads it again; a warehouse written before that column was kept still
works (its rows read it as null and fall back to their reason). Through the real CLI
(`python -m flows.cli`, no Prefect server), as an operator runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SEED
from load import connect_readonly

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "pictures" / "gen-11-00002-2024.html"
"""表二 and 表三 as HTML tables, 表四 as a JPEG beside the page."""
FILES = PAGE.parent / "gen-11-00002-2024_files"
SRC = "gen-11-00002-2024_files/image001.jpg"


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "prefect-home"
    home.mkdir()
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")},
            "PREFECT_HOME": str(home), "COLUMNS": "400"}


def xxgk(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def picture_page(into: Path) -> Path:
    """The fixture page with every HTML table gone and one picture (its 表四) in their place:
    a report whose tables are all pictures."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FILES, into / FILES.name, dirs_exist_ok=True)
    html = PAGE.read_bytes().decode("gb18030")
    html = re.sub(r"<table\b.*?</table>", "", html, count=1, flags=re.S)  # 表二 and 表三 gone, 表四's picture stays
    html = re.sub(r"<table\b.*?</table>", "", html, count=1, flags=re.S)
    assert "<table" not in html and html.count("<img") == 1
    page = into / "pictures.html"
    page.write_bytes(html.encode("gb18030"))
    return page


def rows(wh: Path, sql: str) -> list[tuple]:
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_page_of_pictures_with_ocr_off_is_unsupported_like_a_picture_file_and_says_why_once(tmp_path, env):
    page = picture_page(tmp_path / "in")
    r = xxgk("extract", "--json", "--no-ocr", page, FILES / "image001.jpg", env=env)
    assert r.returncode == 0, r.stderr
    got = {Path(d["source"]).name: d for d in map(json.loads, r.stdout.splitlines())}
    html, image = got["pictures.html"], got["image001.jpg"]
    assert (html["status"], image["status"]) == ("unsupported", "unsupported")
    assert html["reason"] == "no report tables as text (表二/表三/表四 may be pictures); pictures not read: 1 (OCR is off)"
    assert image["reason"] == "image (OCR is off)"
    assert html["facts"] == [] and "ocr_skipped" not in html  # the JSON Lines fields are unchanged


def test_documents_left_unread_by_no_ocr_are_marked_and_known_only_once_read(tmp_path, env):
    from load.reads import known_documents

    inbox = tmp_path / "in"
    picture_page(inbox)
    shutil.copy(PAGE, inbox / "some-tables.html")  # 表二, 表三 in HTML, 表四 a picture: partial
    shutil.copy(SEED, inbox / SEED.name)
    wh = tmp_path / "wh"
    r = xxgk("run", inbox, "-w", wh, "--no-ocr", env=env)
    assert r.returncode == 0, r.stderr
    got = {Path(s).name: (st, o) for s, st, o in rows(wh, "SELECT source, status, ocr_skipped FROM documents")}
    assert got == {"pictures.html": ("unsupported", True), "some-tables.html": ("partial", True),
                   "image001.jpg": ("unsupported", True), SEED.name: ("ok", False)}  # the picture is a file too
    assert {Path(s).name for s in known_documents(wh)} == {SEED.name}
    again = xxgk("run", inbox, "-w", wh, "--no-ocr", env=env)  # still off: read again, still marked
    assert again.returncode == 0, again.stderr
    assert rows(wh, "SELECT documents, unchanged FROM runs ORDER BY started_at DESC LIMIT 1") == [(4, 1)]
    pytest.importorskip("rapidocr")
    on = xxgk("run", inbox, "-w", wh, env=env)  # OCR on: the three are read, and then known
    assert on.returncode == 0, on.stderr
    assert rows(wh, "SELECT documents, unchanged, ocr_pages FROM runs ORDER BY started_at DESC LIMIT 1") == [(4, 1, 3)]
    assert rows(wh, "SELECT count(*) FROM documents WHERE ocr_skipped OR reason LIKE '%OCR is off%'") == [(0,)]
    assert len(known_documents(wh)) == 4


def test_quarantine_retry_takes_ocr_and_pdf_engine_as_run_does(tmp_path, env):
    from typer.main import get_command

    from flows.cli import app

    commands = get_command(app).commands
    helps = {name: {p.name: p.help for p in commands[name].params} for name in ("run", "quarantine")}
    assert helps["quarantine"]["ocr"] == helps["run"]["ocr"]
    assert helps["quarantine"]["pdf_engine"] == helps["run"]["pdf_engine"]

    image = tmp_path / "in" / "table.jpg"
    image.parent.mkdir()
    shutil.copy(FILES / "image001.jpg", image)
    wh = tmp_path / "wh"
    assert xxgk("run", image, "-w", wh, "--no-ocr", env=env).returncode == 0
    r = xxgk("quarantine", "-w", wh, "--retry", "--no-ocr", "--pdf-engine", "pdfminer", env=env)
    assert r.returncode == 0, r.stderr
    assert rows(wh, "SELECT status, reason, ocr_skipped FROM documents") == [("unsupported", "image (OCR is off)", True)]
    assert rows(wh, "SELECT documents, ocr_pages FROM runs ORDER BY started_at DESC LIMIT 1") == [(1, 0)]
    pytest.importorskip("rapidocr")
    r = xxgk("quarantine", "-w", wh, "--retry", "--ocr", env=env)
    assert r.returncode == 0, r.stderr
    [(reason, skipped)] = rows(wh, "SELECT reason, ocr_skipped FROM documents")
    assert skipped is False and "OCR is off" not in (reason or "")  # read by OCR this time
    assert rows(wh, "SELECT ocr_pages FROM runs ORDER BY started_at DESC LIMIT 1") == [(1,)]


def test_a_warehouse_written_before_ocr_skipped_was_kept_still_verifies_reads_and_compacts(tmp_path, env):
    from load.parquet import write_atomic
    from load.reads import known_documents

    inbox = tmp_path / "in"
    picture_page(inbox)
    shutil.copy(SEED, inbox / SEED.name)
    wh = tmp_path / "wh"
    assert xxgk("run", inbox, "-w", wh, "--no-ocr", env=env).returncode == 0
    # as the previous version wrote it: no ocr_skipped column (its load's record rewritten too)
    [path] = (wh / "documents").rglob("*.parquet")
    old = pq.read_table(path)
    write_atomic(path, old.drop_columns(["ocr_skipped"]), old.schema.metadata)
    assert "ocr_skipped" not in pq.read_schema(path).names
    assert xxgk("verify", "-w", wh, env=env).returncode == 0
    assert rows(wh, "SELECT count(*) FROM documents WHERE ocr_skipped IS NULL") == [(3,)]
    # the old rows' reason says what the column would: the page is not known, the report is
    assert {Path(s).name for s in known_documents(wh)} == {SEED.name}

    r = xxgk("run", inbox, "-w", wh, "--no-ocr", env=env)  # the page is read again, now marked
    assert r.returncode == 0, r.stderr
    assert rows(wh, "SELECT documents, unchanged FROM runs ORDER BY started_at DESC LIMIT 1") == [(3, 1)]
    got = {Path(s).name: o for s, o in rows(wh, "SELECT source, ocr_skipped FROM documents")}
    assert got == {"pictures.html": True, "image001.jpg": True, SEED.name: None}
    for cmd in ("verify", "compact", "verify"):
        r = xxgk(cmd, "-w", wh, env=env)
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    got = {Path(s).name: o for s, o in rows(wh, "SELECT source, ocr_skipped FROM documents")}
    assert got == {"pictures.html": True, "image001.jpg": True, SEED.name: None}  # compacted: the unknown stays unknown
    assert {Path(s).name for s in known_documents(wh)} == {SEED.name}


def test_a_quarantined_page_is_retried_from_its_raw_copy_with_its_pictures_once_its_folder_is_gone(tmp_path, env):
    inbox = tmp_path / "in"
    page = picture_page(inbox)
    refused = inbox / "refused.html"  # a picture its first read refused: the retry says the same
    refused.write_bytes(page.read_bytes().replace(SRC.encode(), b"../outside.jpg"))
    wh = tmp_path / "wh"
    assert xxgk("run", inbox, "-w", wh, "--no-ocr", env=env).returncode == 0
    sql = "SELECT source, status, reason, doc_sha256, raw_path FROM documents WHERE format = 'html' ORDER BY source"
    first = rows(wh, sql)
    assert [r[1] for r in first] == ["unsupported", "failed"] and all(r[4] for r in first)
    assert "path leads outside the page's directory" in first[1][2]
    shutil.rmtree(inbox)  # the raw store's copies are all that is left

    r = xxgk("quarantine", "-w", wh, "--retry", "--no-ocr", env=env)
    assert r.returncode == 0, r.stderr
    assert rows(wh, sql) == first  # same status, reason and identity: its pictures were found
    assert rows(wh, "SELECT count(*) FROM documents") == [(3,)]  # the two pages and the picture file

    pytest.importorskip("rapidocr")
    fresh = tmp_path / "fresh"
    read = xxgk("extract", "--json", picture_page(fresh), env=env)  # what a first read with OCR gives
    assert read.returncode == 0, read.stderr
    want = json.loads(read.stdout.splitlines()[0])
    r = xxgk("quarantine", "-w", wh, "--retry", "--ocr", env=env)
    assert r.returncode == 0, r.stderr
    got = {Path(s).name: (st, why, sha) for s, st, why, sha, _ in rows(wh, sql)}
    assert got["pictures.html"] == (want["status"], want["reason"], first[0][3])
    assert "no such file beside the page" not in (want["reason"] or "")
    assert got["refused.html"][2] == first[1][3] and "path leads outside the page's directory" in got["refused.html"][1]
    assert rows(wh, "SELECT count(*) FROM documents") == [(3,)]  # replaced in place, never a second one
    assert rows(wh, f"SELECT count(*) FROM reports WHERE report_id <> '{first[0][3][:16]}' AND format = 'html'") == [(0,)]
    assert rows(wh, "SELECT ocr_pages FROM runs ORDER BY started_at DESC LIMIT 1") == [(2,)]  # the page's, the file
