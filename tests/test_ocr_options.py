"""`nightly`, `backfill` and `serve` take `--ocr/--no-ocr` and `--pdf-engine` as `run` and
`quarantine --retry` do (the same options, defaults and help), and the setting reaches the
extraction: a crawled page whose 表四 is a picture is left unread by OCR (`ocr_skipped`)
with `--no-ocr`, and read with OCR on. Through the real CLI, against a local site."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from flows.cli import app
from load import connect_readonly

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "pictures" / "gen-11-00002-2024.html"
"""表二 and 表三 as HTML tables, 表四 as a JPEG beside the page."""
SRC = "gen-11-00002-2024_files/image001.jpg"


def test_nightly_backfill_and_serve_take_ocr_and_pdf_engine_with_runs_help_and_defaults():
    commands = get_command(app).commands
    params = {name: {p.name: p for p in commands[name].params}
              for name in ("run", "quarantine", "nightly", "backfill", "serve")}
    for name in ("quarantine", "nightly", "backfill", "serve"):
        for opt in ("ocr", "pdf_engine"):
            got, want = params[name][opt], params["run"][opt]
            assert (got.opts, got.secondary_opts, got.help, got.default) == \
                   (want.opts, want.secondary_opts, want.help, want.default), (name, opt)


def test_serve_passes_no_ocr_and_the_pdf_engine_to_the_nightly_deployment(tmp_path):
    reg = ROOT / "data" / "sources.example.toml"
    res = CliRunner().invoke(app, ["serve", "-s", str(reg), "-w", str(tmp_path), "--print", "--no-ocr",
                                   "--pdf-engine", "pdfminer"])
    assert res.exit_code == 0, res.output
    assert "'ocr': False" in res.output and "'pdf_engine': 'pdfminer'" in res.output
    plain = CliRunner().invoke(app, ["serve", "-s", str(reg), "-w", str(tmp_path), "--print"])
    assert plain.exit_code == 0 and "settings" not in plain.output  # the defaults: the flow's own


class _Site(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        files = {"/nb/index.html": ('<html><body><ul><li><a href="/nb/2024.html">2024年政府信息公开工作年度报告</a>'
                                    "</li></ul></body></html>").encode(), "/nb/2024.html": PAGE.read_bytes(),
                 "/nb/" + SRC: (PAGE.parent / SRC).read_bytes()}
        body = files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


def _xxgk(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _rows(wh: Path, sql: str) -> list[tuple]:
    con = connect_readonly(wh)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_nightly_and_backfill_with_no_ocr_leave_a_pages_pictures_unread_and_backfill_with_ocr_reads_them(
        tmp_path, prefect_env):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(f'[[sources]]\nslug = "pics"\nbody = "固安县卫生健康局"\n'
                       f'list_url = "http://127.0.0.1:{server.server_port}/nb/index.html"\n'
                       f'allowed_domains = ["127.0.0.1"]\nrate = 50.0\n', encoding="utf-8")
        wh = tmp_path / "wh"
        r = _xxgk("nightly", "-s", reg, "-w", wh, "--no-ocr", "--pdf-engine", "pdfminer", env=prefect_env)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        server.shutdown()
    sql = "SELECT status, ocr_skipped, coalesce(reason, '') LIKE '%(OCR is off)%' FROM documents"
    assert _rows(wh, sql) == [("partial", True, True)]  # 表四 is the picture, left unread
    last = "SELECT flow, documents, ocr_pages FROM runs ORDER BY started_at DESC LIMIT 1"
    assert _rows(wh, last) == [("nightly", 1, 0)]

    r = _xxgk("backfill", "--reparse", "-w", wh, "--no-ocr", "--pdf-engine", "pdfminer", env=prefect_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _rows(wh, sql) == [("partial", True, True)]
    assert _rows(wh, last) == [("backfill", 1, 0)]

    pytest.importorskip("rapidocr")
    r = _xxgk("backfill", "--reparse", "-w", wh, env=prefect_env)  # OCR on, as by default
    assert r.returncode == 0, r.stdout + r.stderr
    [(status, skipped, off)] = _rows(wh, sql)
    assert (skipped, off) == (False, False) and status in ("ok", "partial")
    assert _rows(wh, last) == [("backfill", 1, 1)]
