"""What an operator sees (issue 18): one-line errors before anything starts, values drawn
literally, exit codes as a contract, a quiet terminal, readable output, `serve` without a
server, the lock message. Through the real CLI: subprocesses (`python -m flows.cli`, what
cron runs) and typer's CliRunner where no Prefect is needed."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REAL, SEED

ROOT = Path(__file__).resolve().parent.parent
HONGZE = next(p for p in REAL if p.suffix == ".pdf")


def xxgk(*args: str, env: dict | None = None, timeout: float = 300, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The CLI in a fresh process, as cron runs it (no terminal; no Prefect server unless `env` names one)."""
    base = {k: v for k, v in os.environ.items()  # (CliRunner tests leave the log settings in this process's environment)
            if not k.startswith(("PREFECT_API", "XXGK_LOG")) and k != "PREFECT_LOGGING_SETTINGS_PATH"}
    base["COLUMNS"] = "400"  # tables wide enough that a value is never folded across lines
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**base, **(env or {})}, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> dict:
    """A Prefect home of this module's own (the log file goes there) and no Prefect server."""
    return {"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}


@pytest.fixture(scope="module")
def literal(tmp_path_factory, home) -> dict:
    """A warehouse loaded (in-process, no Prefect server configured) from a folder `x[`
    holding a good report and an empty file whose path ends in `x[/b] :x:.txt`."""
    root = tmp_path_factory.mktemp("literal")
    folder = root / "in" / "x["
    folder.mkdir(parents=True)
    (folder / "b] :x:.txt").write_bytes(b"")
    (folder / "good.txt").write_bytes(SEED.read_bytes())
    wh = root / "wh"
    proc = xxgk("run", str(root / "in"), "-w", str(wh), env=home)
    return {"root": root, "wh": wh, "bad": str(folder / "b] :x:.txt"), "run": proc}


# ---------------------------------------------------------------- one-line errors, before anything starts


def test_a_missing_registry_is_one_line_naming_the_file(tmp_path, home):
    line = one_line_error(xxgk("nightly", "-s", str(tmp_path / "sources.toml"), "-w", str(tmp_path / "wh"), env=home))
    assert "sources.toml: no such source registry file" in line
    assert not (tmp_path / "wh").exists()


def test_a_registry_mistake_is_one_line_naming_file_source_and_key(tmp_path, home):
    reg = tmp_path / "reg.toml"
    reg.write_text('[[sources]]\nslug = "a"\nlist_url = "http://x.gov.cn/"\nallowed_domains = ["x.gov.cn"]\n'
                   "colour = 1\n", encoding="utf-8")
    for cmd in ("crawl", "nightly", "backfill", "serve"):
        line = one_line_error(xxgk(cmd, "-s", str(reg), "-w", str(tmp_path / "wh"), env=home))
        assert str(reg) in line and "sources[0] (a)" in line and "colour" in line, (cmd, line)


def test_an_unknown_source_slug_is_one_line_listing_the_known_ones(tmp_path, home):
    reg = tmp_path / "reg.toml"
    reg.write_text('[[sources]]\nslug = "a"\nlist_url = "http://x.gov.cn/"\nallowed_domains = ["x.gov.cn"]\n',
                   encoding="utf-8")
    line = one_line_error(xxgk("crawl", "-s", str(reg), "--source", "b", "-w", str(tmp_path / "wh"), env=home))
    assert "unknown source(s) b" in line and "known: a" in line


def test_run_on_a_missing_path_is_an_error_and_stores_nothing(tmp_path, home):
    line = one_line_error(xxgk("run", str(tmp_path / "with-typo"), "-w", str(tmp_path / "wh"), env=home))
    assert "no such file or directory" in line and "with-typo" in line
    assert not (tmp_path / "wh").exists()
    one_line_error(xxgk("extract", str(tmp_path / "with-typo"), env=home))


def test_bad_cron_and_bad_timezone_are_one_line_errors(tmp_path, home):
    reg = tmp_path / "reg.toml"
    reg.write_text('[[sources]]\nslug = "a"\nlist_url = "http://x.gov.cn/"\nallowed_domains = ["x.gov.cn"]\n',
                   encoding="utf-8")
    line = one_line_error(xxgk("serve", "-s", str(reg), "--cron", "61 * * * *", env=home))
    assert "--cron 61 * * * *" in line
    line = one_line_error(xxgk("serve", "-s", str(reg), "--timezone", "Mars/Olympus", env=home))
    assert "--timezone Mars/Olympus: not a time zone" in line


def test_limits_understand_units_and_refuse_bad_ones(home):
    proc = xxgk("extract", str(SEED), "-f", "json", "--limit", "max_bytes=1kB", env=home)
    assert proc.returncode == 0 and "exceeds max_bytes=1000" in json.loads(proc.stdout)["reason"]
    proc = xxgk("extract", str(SEED), "-f", "json", "--limit", "max_bytes=10MB", "--limit", "max_memory_mb=1GiB",
                env=home)
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "ok"
    assert "unknown unit 'XB'" in one_line_error(xxgk("extract", str(SEED), "--limit", "max_bytes=10XB", env=home))
    assert "must be positive" in one_line_error(xxgk("extract", str(SEED), "--limit", "max_pages=0", env=home))


def test_workers_0_is_refused(tmp_path, home):
    proc = xxgk("run", str(SEED), "-w", str(tmp_path / "wh"), "--workers", "0", env=home)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["error: --workers 0: must be at least 1"]  # one line, no usage box
    assert not (tmp_path / "wh").exists()


def test_debug_shows_the_traceback_of_an_error(tmp_path, home):
    proc = xxgk("--debug", "crawl", "-s", str(tmp_path / "nope.toml"), env=home)
    assert proc.returncode == 2 and "no such source registry file" in proc.stderr  # still one line at the end
    proc = xxgk("--debug", "query", "SELECT 1", "-w", str(tmp_path / "nowhere"), env=home)
    assert proc.returncode == 2 and "no warehouse" in proc.stderr


# ---------------------------------------------------------------- values drawn literally


def test_a_name_that_looks_like_markup_is_shown_literally_by_run(literal):
    proc = literal["run"]
    assert proc.returncode == 0, proc.stderr
    assert f"failed {literal['bad']}: empty file" in proc.stdout


def test_a_name_that_looks_like_markup_is_shown_literally_by_extract_query_and_quarantine(literal, home):
    proc = xxgk("extract", str(literal["root"] / "in"), env=home)
    assert proc.returncode == 0 and literal["bad"] in proc.stdout, proc.stdout
    wh = str(literal["wh"])
    proc = xxgk("query", "SELECT source FROM documents WHERE status = 'failed'", "-w", wh, env=home)
    assert proc.returncode == 0 and literal["bad"] in proc.stdout, proc.stdout
    proc = xxgk("quarantine", "-w", wh, env=home)
    assert proc.returncode == 0 and literal["bad"] in proc.stdout, proc.stdout
    proc = xxgk("query", "SELECT '[red]name' AS a, ':x:' AS b, '[/b]' AS c", "-w", wh, env=home)
    assert proc.returncode == 0 and "[red]name" in proc.stdout and ":x:" in proc.stdout and "[/b]" in proc.stdout


# ---------------------------------------------------------------- SQL errors, readable output


def test_a_sql_syntax_error_is_labelled_an_error_not_refused(literal, home):
    line = one_line_error(xxgk("query", "SELEC 1", "-w", str(literal["wh"]), env=home))
    assert line.startswith("error: SQL error") and "refused" not in line


def test_an_unknown_view_lists_the_views(literal, home):
    line = one_line_error(xxgk("query", "SELECT * FROM report", "-w", str(literal["wh"]), env=home))
    assert "SQL error" in line and "the views are:" in line
    assert "report_metrics" in line and "documents" in line and "_raw" not in line


def test_query_draws_50_rows_and_says_how_many_there_are(literal, home):
    proc = xxgk("query", "SELECT range AS i FROM range(120)", "-w", str(literal["wh"]), env=home)
    assert proc.returncode == 0
    drawn = [line for line in proc.stdout.splitlines() if line.startswith("│")]
    assert len(drawn) == 50
    assert "50 of 120 rows" in proc.stderr and " s" in proc.stderr
    proc = xxgk("query", "SELECT range AS i FROM range(120)", "-w", str(literal["wh"]), "-f", "csv", env=home)
    assert len(proc.stdout.splitlines()) == 121  # csv: every row


def test_integral_floats_print_as_integers(literal, home):
    proc = xxgk("query", "SELECT 859.0::DOUBLE AS n, 1.5::DOUBLE AS r, 12.0::DECIMAL(9, 1) AS d",
                "-w", str(literal["wh"]), env=home)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("│"))
    assert "859 " in row and "859.0" not in row and "1.5" in row and "12 " in row and "12.0" not in row


def test_quarantine_lists_as_csv_json_and_parquet(literal, home, tmp_path):
    import pyarrow.parquet as pq

    wh = str(literal["wh"])
    csv_out = xxgk("quarantine", "-w", wh, "-f", "csv", env=home).stdout.splitlines()
    assert csv_out[0] == "source,status,reason,format,raw_path,ingested_at" and literal["bad"] in csv_out[1]
    rows = [json.loads(line) for line in xxgk("quarantine", "-w", wh, "-f", "json", env=home).stdout.splitlines()]
    assert [(r["source"], r["status"], r["reason"]) for r in rows] == [(literal["bad"], "failed", "empty file")]
    assert "needs --output" in one_line_error(xxgk("quarantine", "-w", wh, "-f", "parquet", env=home))
    proc = xxgk("quarantine", "-w", wh, "-f", "parquet", "-o", str(tmp_path / "q.parquet"), env=home)
    assert proc.returncode == 0
    assert pq.read_table(tmp_path / "q.parquet").column("source").to_pylist() == [literal["bad"]]


def test_extract_formats_and_progress_lines_without_a_terminal(tmp_path, home):
    for k in range(3):
        (tmp_path / f"r{k}.txt").write_bytes(SEED.read_bytes())
    proc = xxgk("extract", str(tmp_path), "-f", "csv", env=home)
    lines = proc.stdout.splitlines()
    assert lines[0] == "source,status,template,year,agency,facts,failed_checks,reason" and len(lines) == 4
    assert all(",ok,2019,2020," in line for line in lines[1:])
    assert "extracting: 3/3 documents" in proc.stderr  # a log line, not a bar that vanishes in cron's mail
    proc = xxgk("extract", str(tmp_path), "-f", "json", env=home)
    assert [json.loads(line)["status"] for line in proc.stdout.splitlines()] == ["ok"] * 3


def test_version_flag():
    proc = xxgk("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("xxgk ") and "parser" in proc.stdout


# ---------------------------------------------------------------- a quiet terminal


def test_extract_of_a_pdf_whose_fonts_lack_a_bbox_prints_only_its_results(tmp_path, home):
    """Browser-printed PDFs make pdfminer warn `Could not get FontBBox from font descriptor`
    for every font; a PDF whose font descriptors lose their /FontBBox does the same. (Read
    with pdfminer: the PDFium reader, the default, does not warn.)"""
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(HONGZE.read_bytes().replace(b"/FontBBox", b"/FontBBoy"))
    proc = xxgk("extract", "--pdf-engine", "pdfminer", str(pdf), env=home)
    assert proc.returncode == 0 and "FontBBox" not in proc.stdout + proc.stderr
    assert proc.stderr == "" and "ok" in proc.stdout
    assert "FontBBox" in (Path(home["PREFECT_HOME"]) / "xxgk.log").read_text(encoding="utf-8")
    loud = xxgk("--debug", "extract", "--pdf-engine", "pdfminer", str(pdf), env=home)
    assert "Could not get FontBBox" in loud.stderr


# ---------------------------------------------------------------- serve and the writer lock


def test_serve_without_a_prefect_server_refuses_saying_how_to_start_one(tmp_path, home):
    reg = tmp_path / "reg.toml"
    reg.write_text('[[sources]]\nslug = "a"\nlist_url = "http://x.gov.cn/"\nallowed_domains = ["x.gov.cn"]\n',
                   encoding="utf-8")
    line = one_line_error(xxgk("serve", "-s", str(reg), env=home))
    assert "prefect server start" in line and "PREFECT_API_URL" in line
    line = one_line_error(xxgk("serve", "-s", str(reg), env={**home, "PREFECT_API_URL": "http://127.0.0.1:9/api"}))
    assert "none answers at http://127.0.0.1:9/api" in line and "prefect server start" in line


def test_a_run_waiting_for_the_lock_names_the_holder_then_proceeds(tmp_path, home):
    wh = tmp_path / "wh"
    wh.mkdir()
    fh = open(wh / ".lock", "a+")
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    threading.Timer(12.0, lambda: (fcntl.flock(fh.fileno(), fcntl.LOCK_UN), fh.close())).start()
    started = time.monotonic()
    proc = xxgk("run", str(SEED), "-w", str(wh), env=home)
    assert proc.returncode == 0, proc.stderr
    assert f"is being written by process {os.getpid()}; waiting for it (up to 10 min)" in proc.stderr
    assert time.monotonic() - started >= 11.5  # it waited for the holder


# ---------------------------------------------------------------- start-up


def test_a_run_without_a_prefect_server_does_not_import_prefect(tmp_path, home):
    code = ("import sys; from flows.cli import main; sys.argv = ['xxgk', 'run', sys.argv[1], '-w', sys.argv[2]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('prefect' in sys.modules, file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    proc = subprocess.run([sys.executable, "-c", code, str(SEED), str(tmp_path / "wh")], capture_output=True,
                          text=True, cwd=ROOT, env={**env, **home}, timeout=120)
    assert proc.stderr.strip().endswith("False"), proc.stderr
    assert "facts loaded" in proc.stdout


# ---------------------------------------------------------------- exit codes (through Prefect)


def _flow_runs(api: str, flow: str) -> list[dict]:
    """The latest flow runs of `flow` on the Prefect server at `api`, newest first."""
    import httpx

    body = {"flows": {"name": {"any_": [flow]}}, "sort": "START_TIME_DESC", "limit": 10}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()


def _count_runs(api: str, flow: str) -> int:
    import httpx

    return httpx.post(f"{api}/flow_runs/count", json={"flows": {"name": {"any_": [flow]}}}, timeout=30).json()


UNREACHABLE = ('[[sources]]\nslug = "gone"\nlist_url = "http://127.0.0.1:9/list.html"\n'
               'allowed_domains = ["127.0.0.1"]\ntimeout = 5\n')


@pytest.mark.slow
def test_every_source_unreachable_exits_5_and_the_flow_run_is_failed(tmp_path, prefect_env):
    reg = tmp_path / "reg.toml"
    reg.write_text(UNREACHABLE, encoding="utf-8")
    wh = tmp_path / "wh"
    proc = xxgk("nightly", "-s", str(reg), "-w", str(wh), env=prefect_env, timeout=600)
    assert proc.returncode == 5, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "every source was unreachable (gone)" in proc.stderr
    assert "1 list page(s) could not be fetched" in proc.stdout
    runs = _flow_runs(prefect_env["PREFECT_API_URL"], "xxgk-nightly")
    assert runs and runs[0]["state_type"] == "FAILED"
    q = xxgk("query", "SELECT flow, fetch_failed FROM runs", "-w", str(wh), "-f", "csv", env=prefect_env)
    assert q.stdout.splitlines()[1:] == ["nightly,1"]  # the list page's failure is counted


@pytest.mark.slow
def test_some_sources_unreachable_exits_4_and_loads_the_others(tmp_path, prefect_env):
    from govsite import Site

    site = Site().start()
    try:
        reg = tmp_path / "reg.toml"
        reg.write_text(site.sources_toml() + "\n" + UNREACHABLE, encoding="utf-8")
        wh = tmp_path / "wh"
        proc = xxgk("nightly", "-s", str(reg), "-w", str(wh), env=prefect_env, timeout=600)
    finally:
        site.stop()
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    assert "1 of 2 source(s) unreachable: gone" in proc.stderr and "Traceback" not in proc.stderr
    q = xxgk("query", "SELECT count(*) FROM documents", "-w", str(wh), "-f", "csv", env=prefect_env)
    assert int(q.stdout.splitlines()[1]) > 0
    assert _flow_runs(prefect_env["PREFECT_API_URL"], "xxgk-nightly")[0]["state_type"] == "COMPLETED"


@pytest.mark.slow
def test_a_run_is_a_prefect_flow_run_when_a_server_is_configured(tmp_path, prefect_env):
    before = _count_runs(prefect_env["PREFECT_API_URL"], "xxgk-run")
    proc = xxgk("run", str(SEED), "-w", str(tmp_path / "wh"), env=prefect_env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert _count_runs(prefect_env["PREFECT_API_URL"], "xxgk-run") == before + 1
    assert _flow_runs(prefect_env["PREFECT_API_URL"], "xxgk-run")[0]["state_type"] == "COMPLETED"


@pytest.mark.parametrize("args, says", [
    (["--pdf-engine", "chromium", "--formats", "html,docx"], "--pdf-engine chromium renders PDFs, but --formats html,docx has no pdf"),
    (["--pdf-engine", "libreoffice", "--formats", "text"], "--pdf-engine libreoffice renders PDFs, but --formats text has no pdf"),
    (["--scan", "--formats", "docx,text"], "--scan turns PDFs into scans and HTML tables into pictures, but --formats docx,text has neither"),
    (["--pdf-engine", "wkhtml", "--formats", "html"], "unknown --pdf-engine wkhtml"),
    (["--formats", "html,odt"], "unknown format(s) odt"),
])
def test_sample_options_that_would_make_nothing_asked_are_one_line_errors_writing_nothing(args, says, tmp_path, home):
    out = tmp_path / "corpus"
    line = one_line_error(xxgk("sample", str(out), "-n", "2", *args, env=home))
    assert says in line, line
    assert not out.exists()
