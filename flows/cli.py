"""The `xxgk` command line. Only this module prints.

`extract` and `query` never import Prefect (they answer in about a second); `run` and
`demo` run the Prefect flow (ephemeral API unless PREFECT_API_URL points at a server).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:  # (imported where used: `xxgk query` must not import the readers or Prefect)
    from extract import ExtractSettings
    from load.reads import StoredDocument
    from transform.records import RunSummary

    from .items import CrawlSummary, LoadSummary

app = typer.Typer(
    name="xxgk",
    help="Batch ETL for 政府信息公开工作年度报告: extract the standard tables of government "
         "information disclosure annual reports (HTML, PDF, DOCX, text; .doc/.wps when LibreOffice "
         "is installed) into checked long-format records, Parquet and DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# data is drawn literally: no emoji codes (`:x:`), no highlighting; markup only in xxgk's own
# strings, every value passed through escape() or Text
out = Console(soft_wrap=True, emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)
_DEBUG = False

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", envvar="XXGK_WAREHOUSE",
                                            help="Warehouse directory (Parquet + xxgk.duckdb).")]


class Fmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


class Labels(str, Enum):
    zh = "zh"


class ExportFmt(str, Enum):
    xlsx = "xlsx"
    csv = "csv"
    parquet = "parquet"


EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
EXIT_SOME_SOURCES_FAILED, EXIT_ALL_SOURCES_FAILED = 4, 5
"""The exit codes (README, "Exit codes"): bad documents are data, not failures (0)."""


def _cells(values) -> list[Text]:
    """Table cells drawn literally (a file name like `x[/b] :x:.txt` is not markup)."""
    return [Text(_show(v)) for v in values]


def _table(*headers: str, title: str | None = None) -> Table:
    """A table whose headers and title are drawn literally and whose long values wrap
    instead of being cut with an ellipsis (a file name must stay whole to be found)."""
    return Table(*(Column(Text(h), overflow="fold") for h in headers), title=Text(title) if title else None)


def _show(v) -> str:
    """A value as the terminal shows it: None blank, an integral float as an integer."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    if type(v).__name__ == "Decimal" and v.is_finite() and v == v.to_integral_value():
        return str(int(v))
    return str(v)


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print a one-line error (`message` is xxgk's own markup; escape the data in it) and
    return the Exit to raise."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        from common import PARSER_VERSION

        out.print(f"xxgk {version('xxgk')} (parser {PARSER_VERSION})")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks, and library and Prefect logs on the terminal (else they go to the log file).")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Batch ETL for 政府信息公开工作年度报告."""
    global _DEBUG
    _DEBUG = debug or bool(os.environ.get("XXGK_DEBUG"))
    from .logs import quiet_terminal

    quiet_terminal(_DEBUG)


class ExtractFmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


EXTRACT_COLUMNS = ("source", "status", "template", "year", "agency", "facts", "failed_checks", "reason")


def _existing(paths: list[Path]) -> list[Path]:
    """`paths`, or a one-line error naming those that do not exist (nothing is stored): a
    symbolic link whose target is missing is named as such, not as a missing file."""
    from .discover import broken_link

    broken = [(p, why) for p in paths if (why := broken_link(p))]
    if broken:
        raise _fail("; ".join(f"{escape(str(p))}: {escape(why)}" for p, why in broken))
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise _fail("no such file or directory: " + ", ".join(escape(str(p)) for p in missing))
    return paths


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (searched recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json: one JSON object per document with its facts (JSON Lines).")] = False,
    fmt: Annotated[ExtractFmt, typer.Option("--format", "-f", help="table (one row per document), csv (the same rows), json (JSON Lines with the facts and checks).")] = ExtractFmt.table,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: Annotated[bool, typer.Option("--ocr/--no-ocr", help="Read scans (PDF pages without text) and images by OCR (RapidOCR, when installed).")] = True,
    follow_symlinks: FollowOpt = False,
) -> None:
    """Extract and check documents; print the results, write nothing.

    Formats are detected from the bytes: PDF (text layer; scanned pages by OCR), HTML (UTF-8 or
    GBK family; tables pasted as pictures by OCR), DOCX, plain text, PNG/JPEG pictures of a
    report page (OCR). Relative paths are read from the current folder. Legacy .doc/.wps are converted with LibreOffice (soffice) when it
    is installed, otherwise reported `unsupported`. A bad document never stops the batch: it gets
    status `failed` with a reason, and the exit code stays 0.
    """
    from transform.serialize import result_to_json

    from .discover import describe, discover
    from .sandbox import process_isolated

    settings = _settings(limit, pdf_engine, ocr)
    fmt = ExtractFmt.json if as_json else fmt
    files, skipped = discover(_existing(paths), follow_symlinks)
    for s in skipped:  # on stderr: stdout is the results (csv, JSON Lines)
        err.print(f"[yellow]skipped[/yellow] {escape(str(s.path))}: {escape(s.reason)}")
    if skipped:
        err.print(f"[yellow]{escape(describe(skipped))}[/yellow] (in the given folders, not read)")
    if not files:
        raise _fail("no files found (hidden files are skipped)")
    rows = []
    writer = None
    if fmt is ExtractFmt.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(EXTRACT_COLUMNS)
    with _bar(len(files), "extracting", quiet=len(files) == 1) as advance:
        for f in files:
            res = result_to_json(process_isolated(f, settings))
            advance(1)
            if fmt is ExtractFmt.json:
                sys.stdout.write(json.dumps(res, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            elif writer is not None:
                writer.writerow(_extract_row(res))
                sys.stdout.flush()
            else:
                rows.append(_extract_row(res))
    if fmt is ExtractFmt.table:
        t = _table(*(c.replace("_", " ") for c in EXTRACT_COLUMNS))
        for r in rows:
            t.add_row(*_cells(r))
        out.print(t)


def _extract_row(res: dict) -> list:
    return [res["source"], res["status"], res["template"] or "", res["year"] or "", res["agency"] or "",
            len(res["facts"]), sum(1 for c in res["checks"] if c["passed"] is False), res["reason"] or ""]


class _Lines:
    """Progress without a terminal (cron, CI, a pipe): one log line per step of about a
    tenth of the total, or per advance when the total is unknown, at most one per second."""

    def __init__(self, total: int | None, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.started = self.last = time.monotonic()
        self.step = max(1, (total or 0) // 10)

    def advance(self, n: int) -> None:
        before, self.done = self.done, self.done + n
        now = time.monotonic()
        crossed = self.total is None or self.done // self.step > before // self.step or self.done == self.total
        if crossed and (now - self.last >= 1 or self.done == self.total):
            self.last = now
            of = f"/{self.total}" if self.total is not None else ""
            err.print(f"{_stamp()} {self.label}: {self.done}{of} documents ({now - self.started:.0f} s)",
                      markup=False)

    def describe(self, label: str) -> None:
        self.label = label


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


@contextlib.contextmanager
def _bar(total: int | None, label: str, quiet: bool = False):
    """`advance(n)`: a progress bar on a terminal, log lines without one, nothing if `quiet`."""
    if quiet:
        yield lambda n: None
    elif not err.is_terminal:
        yield _Lines(total, label).advance
    else:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task(label, total=total)
            yield lambda n: progress.advance(task, n)


def _print_summary(summary: LoadSummary, warehouse: Path) -> None:
    keys = ("documents", "unchanged", "ok", "partial", "failed", "unsupported", "facts_loaded")
    t = _table(*(k.replace("_", " ") for k in keys), title=f"run → {warehouse}")
    t.add_row(*_cells(getattr(summary, k) for k in keys))
    out.print(t)
    for p in summary.problems:
        out.print(f"  [yellow]{escape(p.status)}[/yellow] {escape(p.source)}: {escape(p.reason or '')}")
    _print_skips(summary.skipped, "the `runs` view keeps them: xxgk query \"SELECT skipped FROM runs\"")


SKIPS_SHOWN = 20


def _print_skips(skipped: list, more: str) -> None:
    """What the given folders held but was not read: the counts by kind, then each path
    with its reason (the first SKIPS_SHOWN; `more` says where the rest are)."""
    from .discover import describe

    if not skipped:
        return
    out.print(f"[yellow]{escape(describe(skipped))}[/yellow] (in the given folders, not read)")
    for s in skipped[:SKIPS_SHOWN]:
        out.print(f"  [yellow]skipped[/yellow] {escape(str(s.path))}: {escape(s.reason)}")
    if len(skipped) > SKIPS_SHOWN:
        out.print(f"  … and {len(skipped) - SKIPS_SHOWN} more ({escape(more)})")


def _lock_holder(warehouse: Path) -> str | None:
    """Who holds the warehouse's writer lock now ("process 1234"), or None if it is free."""
    import fcntl

    from load.layout import LOCK_NAME

    path = warehouse / LOCK_NAME
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            pid = fh.read().strip()
            return f"process {pid}" if pid.isdigit() else "another process"
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


@contextlib.contextmanager
def _progress(total: int | None = None, label: str = "running", warehouse: Path | None = None,
              first: str = "starting Prefect"):
    """Progress the flows advance (a bar on a terminal, log lines without one; it says
    "starting Prefect" until the first document: import the flow inside the block). A
    warehouse another run is writing to is named with its holder; if it stays busy the
    command ends with exit code 3."""
    holder = _lock_holder(warehouse) if warehouse is not None and warehouse.exists() else None
    if holder:
        err.print(f"warehouse {escape(str(warehouse))} is being written by {holder}; waiting for it (up to 10 min)")
    from load import WarehouseBusy

    from .progress import set_hook

    first = "waiting for the writer lock" if holder else first
    with contextlib.ExitStack() as stack:
        if err.is_terminal:
            progress = stack.enter_context(Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err, transient=True))
            task = progress.add_task(first, total=total)
            set_hook(lambda n: progress.update(task, description=label, advance=n))
        else:
            progress = None
            set_hook(_Lines(total, label).advance)
        try:
            yield
        except WarehouseBusy as exc:
            if progress is not None:
                progress.stop()
            err.print(f"[red]error:[/red] {escape(str(exc))} (another xxgk run is writing to it; nothing was written)")
            raise typer.Exit(EXIT_LOCKED)
        finally:
            set_hook(None)


def _call(flow_fn, workers: int | None = None, address: str | None = None, **params):
    """Call a flow on the chosen task runner, with the run's own Prefect API server when
    none is configured (shared by every process of the run; it dies with the run)."""
    from .runners import cli_settings, owned_api, with_runner
    from .work import recorded_by_caller

    record = params.get("record", True) and not params.get("dry_run", False)
    with _said_when_stopped(), recorded_by_caller(params["warehouse"], flow_fn.name.removeprefix("xxgk-"), record):
        fn = with_runner(flow_fn, workers, address)  # before the API: overlaps start-ups
        with owned_api(), cli_settings():
            return fn(**params)


@contextlib.contextmanager
def _said_when_stopped():
    """Around a flow's call: a run stopped by Ctrl-C (exit 130; typer alone says nothing) or
    SIGTERM (143) says so in one line on stderr, with what its `runs` row recorded."""
    from .ending import Terminated
    from .work import WRITTEN

    before = WRITTEN.count
    try:
        yield
    except KeyboardInterrupt:
        err.print(Text(_stopped_line("interrupted", WRITTEN.last if WRITTEN.count > before else None)))
        raise typer.Exit(130) from None
    except Terminated as exc:
        err.print(Text(_stopped_line("terminated", WRITTEN.last if WRITTEN.count > before else None)))
        raise typer.Exit(exc.code) from None


def _stopped_line(word: str, row: RunSummary | None) -> str:
    """`interrupted: 3 documents committed (run … recorded in runs)`: what a stopped run kept."""
    if row is None:
        return f"{word}: nothing recorded"
    if row.flow == "crawl":
        return f"{word}: what was fetched is kept in the raw store (run {row.run_id} recorded in runs)"
    committed = sum(n or 0 for n in (row.ok, row.partial, row.quarantined))
    return f"{word}: {committed} documents committed, {row.facts_loaded or 0} facts (run {row.run_id} recorded in runs)"


def _open(warehouse: Path, *writable: Path):
    """A read-only connection to the warehouse's views (that may write only `writable`), or
    a clear error: no warehouse there is a set-up error (exit 2), a damaged one exit 1."""
    from load import LoadError, connect_readonly

    try:
        return connect_readonly(warehouse, writable, snapshot=True)  # one query: one committed state
    except FileNotFoundError as exc:
        raise _fail(escape(str(exc)), EXIT_USAGE) from None
    except LoadError as exc:
        raise _fail(escape(str(exc)), EXIT_INTERNAL) from None


def _parallelism(workers: int | None, address: str | None) -> int:
    if address:
        return 8  # an existing cluster: its size is unknown here, so cut finer batches
    return max(1, workers or 1)


def prefect_configured() -> bool:
    """Whether a Prefect API is configured: PREFECT_API_URL in the environment, in the
    active profile ($PREFECT_HOME/profiles.toml, `prefect config set`) or in ./prefect.toml.
    Read without importing Prefect (that alone takes seconds)."""
    import tomllib

    if os.environ.get("PREFECT_API_URL"):
        return True
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
        profiles = tomllib.loads((Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")).read_text())
        name = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
        if profiles.get("profiles", {}).get(name, {}).get("PREFECT_API_URL"):
            return True
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
        if tomllib.loads(Path("prefect.toml").read_text()).get("api", {}).get("url"):
            return True
    return False


def _use_prefect(choice: bool | None, workers: int | None = None, address: str | None = None) -> bool:
    """Run as a Prefect flow run (recorded in Prefect) or in this process: `--prefect` /
    `--no-prefect`, else Prefect when a server is configured or the tasks run on Dask."""
    if choice is not None:
        return choice
    return prefect_configured() or bool(workers and workers > 1) or bool(address)


def _run(paths: list[Path], warehouse: Path, batch_size: int, workers: int | None = None,
         address: str | None = None, force: bool = False, settings: ExtractSettings | None = None,
         stale: bool = False, prefect: bool | None = None, follow_symlinks: bool = False) -> LoadSummary:
    from .discover import discover

    local = not _use_prefect(prefect, workers, address)
    if local:
        from .sandbox import default_sandbox

        default_sandbox().prestart()  # the reader process imports the readers while this one goes on
    from .work import recorded_by_caller

    paths = _existing(paths)
    with _said_when_stopped(), recorded_by_caller(str(warehouse), "run"):  # stopped before the flow began: still a row
        # counted for the progress bar (stale documents: by the flow); the flow discovers again
        n = None if stale else len(discover(paths, follow_symlinks)[0])
        if n == 0:
            err.print(f"[yellow]no documents found in {escape(', '.join(map(str, paths)))} (hidden files are skipped)[/]")
        params = dict(paths=[str(p) for p in paths], warehouse=str(warehouse), batch_size=batch_size, force=force,
                      stale=stale, follow_symlinks=follow_symlinks)
        if local:
            with _progress(n, "extracting", warehouse, first="extracting"):
                from .work import DEFAULT_SETTINGS, run_local

                return run_local(settings=settings or DEFAULT_SETTINGS, **params).load
        with _progress(n, "extracting", warehouse):
            from .run import DEFAULT_SETTINGS, run_flow

            return _call(run_flow, workers, address, parallelism=_parallelism(workers, address),
                         settings=settings or DEFAULT_SETTINGS, **params).load


FollowOpt = Annotated[bool, typer.Option(
    "--follow-symlinks",
    help="Also follow symbolic links in the given folders that point outside them (default: such a link is "
         "skipped with its reason; links pointing inside are always followed).")]


LimitOpt = Annotated[Optional[list[str]], typer.Option(
    "--limit", metavar="NAME=VALUE",
    help="Per-document limit (repeatable): max_bytes, max_pages, max_seconds, max_memory_mb, "
         "max_unzipped_bytes, max_html_depth. Defaults: 50 MiB, 200 pages, 120 s, 2048 MB, 200 MiB, 200 "
         "levels. A document over a limit is quarantined with the limit named.")]


class PdfEngine(str, Enum):
    pdfium = "pdfium"
    pdfminer = "pdfminer"


PdfEngineOpt = Annotated[Optional[PdfEngine], typer.Option(
    "--pdf-engine",
    help="PDF reader (default: pdfium): pdfium (pypdfium2, fast) or pdfminer (pdfminer.six, "
         "the reference). A document PDFium cannot read exactly like pdfminer is read with pdfminer.")]


OcrOpt = Annotated[bool, typer.Option("--ocr/--no-ocr", help="Read scans and images by OCR (RapidOCR, when installed).")]


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30}


def _limit_value(name: str, value: str, kind: type) -> int | float | bool:
    """One --limit value: a number; for `*_bytes` with an optional unit (10MB = 10,000,000,
    10MiB = 10 × 2^20, also k/KB/KiB, G/GB/GiB), for `max_memory_mb` in MB or with a unit,
    for `max_seconds` with an optional `s`. Raises ValueError with the reason."""
    import re

    v = value.strip()
    if kind is bool:
        if v.lower() in ("1", "true", "yes", "on"):
            return True
        if v.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{value!r} is not true or false")
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-zA-Z]*)", v)
    if not m:
        raise ValueError(f"{value!r} is not a number")
    number, unit = float(m.group(1)), m.group(2).lower()
    if name.endswith("_bytes") or (name.endswith("_mb") and unit):
        if unit not in _UNITS:
            raise ValueError(f"{value!r}: unknown unit {m.group(2)!r} (use B, kB, KiB, MB, MiB, GB or GiB)")
        number *= _UNITS[unit] / (2**20 if name.endswith("_mb") else 1)
    elif unit not in ("", "s") or (unit == "s" and not name.endswith("seconds")):
        raise ValueError(f"{value!r} is not a number")
    if number <= 0:
        raise ValueError("must be positive")
    return int(number) if kind is int else number


def _settings(specs: Optional[list[str]], pdf_engine: PdfEngine | None = None, ocr: bool = True) -> ExtractSettings:
    """--limit NAME=VALUE options (and --pdf-engine, --ocr/--no-ocr) → the run's
    ExtractSettings (resolved here, once), or a one-line error."""
    from extract import ExtractSettings

    fields = {k: f for k, f in ExtractSettings.__dataclass_fields__.items() if k not in ("pdf_engine", "ocr")}
    limits: dict = {"pdf_engine": pdf_engine.value} if pdf_engine else {}
    for spec in specs or ():
        name, _, value = spec.partition("=")
        name = name.strip().replace("-", "_")
        if name not in fields or not value.strip():
            raise _fail(f"--limit {escape(spec)}: expected NAME=VALUE with NAME one of {', '.join(fields)}")
        typ = fields[name].type
        kind = bool if typ in (bool, "bool") else int if typ in (int, "int") else float
        try:
            limits[name] = _limit_value(name, value, kind)
        except ValueError as exc:
            raise _fail(f"--limit {escape(spec)}: {escape(str(exc))}") from None
    _check_reference_data()
    return ExtractSettings(**limits, ocr=ocr)


def _check_reference_data() -> None:
    """Templates and body registry validated before anything is read or written: a mistake
    in data/ is one line and exit 2, not every document failed."""
    from transform.errors import TransformError
    from transform.pipeline import load_reference_data

    try:
        load_reference_data()
    except TransformError as exc:
        raise _fail(f"{escape(str(exc))} (nothing was read or written)") from None


BatchOpt = Annotated[int, typer.Option(help="Documents per batch (0: automatic: about 4 batches in-process, 2 per worker on a cluster, at least 25 documents each).")]
def _check_workers(value: Optional[int]) -> Optional[int]:
    if value is not None and value < 1:
        raise _fail(f"--workers {value}: must be at least 1")
    return value


WorkersOpt = Annotated[Optional[int], typer.Option("--workers", callback=_check_workers, help="Run tasks on a local Dask cluster of N worker processes (prefect-dask).")]
DaskOpt = Annotated[Optional[str], typer.Option("--dask-address", help="Run tasks on an existing Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786).")]
PrefectOpt = Annotated[Optional[bool], typer.Option("--prefect/--no-prefect", help="A Prefect flow run, or in this process (default without a configured Prefect server; `runs` records both).")]
SourcesFileOpt = Annotated[Path, typer.Option("--sources-file", "-s", help="The source registry (TOML); see data/sources.example.toml.")]


@app.command()
def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or directories to ingest.")] = None,
    warehouse: WarehouseOpt = Path("warehouse"),
    batch_size: BatchOpt = 0,
    stale: Annotated[bool, typer.Option("--stale", help="Also re-extract every document an older parser version handled (the `stale_documents` view).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-extract documents the warehouse already holds from this parser version.")] = False,
    follow_symlinks: FollowOpt = False,
    workers: WorkersOpt = None,
    dask_address: DaskOpt = None,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: OcrOpt = True,
    prefect: PrefectOpt = None,
) -> None:
    """Extract → transform → check → load into the warehouse: the Prefect flow `xxgk-run` when a
    Prefect server is configured (or --prefect, --workers, --dask-address), else in this process.

    Documents already loaded (same source, same bytes, same parser version) are skipped; re-running
    changed ones replaces their rows. Bad documents are recorded in `documents` with their reason
    (and a copy in the raw store); the run goes on and exits 0. In the given folders only regular
    files are read: unreadable subfolders, FIFOs, devices, sockets and symbolic links pointing
    outside the folders (unless --follow-symlinks) are skipped, counted with their reasons in the
    summary and kept in the `runs` view (columns paths_skipped, skipped).
    """
    settings = _settings(limit, pdf_engine, ocr)
    paths = list(paths or [])
    if not paths and not stale:
        raise _fail("nothing to do: give files or directories (or --stale)")
    summary = _run(paths, warehouse, batch_size, workers, dask_address, force, settings, stale, prefect, follow_symlinks)
    _print_summary(summary, warehouse)


def _print_crawl(crawl: CrawlSummary, items: list, verbose: bool = False) -> None:
    """The crawl's counts, then those of `items` skipped or failed (all of them if `verbose`)."""
    c = crawl.counts
    out.print(f"crawl of {len(crawl.sources)} source(s), {crawl.requests} requests: "
              + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) if c else "crawl: nothing found")
    lists_failed = sum(1 for it in crawl.items if it.kind == "list" and it.status == "failed")
    if lists_failed:
        out.print(f"  [yellow]{lists_failed} list page(s) could not be fetched[/yellow]")
    for it in items:
        if it.status in ("skipped", "failed") or verbose:
            out.print(f"  [yellow]{escape(it.status)}[/yellow] {escape(it.url)}"
                      + (f": {escape(it.reason)}" if it.reason else ""))


@app.command()
def crawl(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this source slug (repeatable).")] = None,
    years: Annotated[Optional[str], typer.Option(help="Only reports of these years: 2019-2021 or 2020,2022.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read the list pages and show what would be fetched; fetch nothing else.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every item, not only skips and failures.")] = False,
) -> None:
    """Crawl the registry's sources into the raw store (warehouse/raw/).

    Politely: robots.txt, per-host rate limits, conditional GET (an unchanged page costs one
    304), allowed domains only (redirects and attachment links included).

    Crawling does not extract; `xxgk nightly` crawls and then loads what is new or changed."""
    _registry(sources_file, source)
    chosen_years = _years(years)
    with _progress(label="fetching", warehouse=warehouse), _unreachable() as failed:
        from .run import crawl_flow

        res = _call(crawl_flow, registry=str(sources_file), warehouse=str(warehouse), sources=source,
                    years=chosen_years, dry_run=dry_run)
    res = failed.summary or res
    if dry_run:
        for it in res.items:
            if it.kind != "list":
                out.print(Text(f"  {it.status:8} {it.year or '':4} {it.url}  {it.title or ''}"))
    _print_crawl(res, res.items, verbose and not dry_run)
    _exit_for(res)


class _Unreachable:
    summary = None


@contextlib.contextmanager
def _unreachable():
    """Catch the flows' SourcesUnreachable: its summary is still printed, then exit 5."""
    from .items import SourcesUnreachable

    caught = _Unreachable()
    try:
        yield caught
    except SourcesUnreachable as exc:
        caught.summary = exc.summary


def _exit_for(res) -> None:
    """Exit 5 when every source was unreachable (the flow run is Failed), 4 when some were."""
    crawl = getattr(res, "crawl", res)
    if crawl is None or not crawl.unreachable:
        return
    names = ", ".join(crawl.unreachable)
    if len(crawl.unreachable) == len(crawl.sources):
        raise _fail(f"every source was unreachable ({escape(names)}): nothing was crawled", EXIT_ALL_SOURCES_FAILED)
    err.print(f"[yellow]warning:[/yellow] {len(crawl.unreachable)} of {len(crawl.sources)} source(s) unreachable: "
              f"{escape(names)}")
    raise typer.Exit(EXIT_SOME_SOURCES_FAILED)


def _registry(path: Path, slugs: Optional[list[str]] = None) -> None:
    """Check the source registry (and the --source slugs) before any flow starts: a
    mistake is one line naming the file, the source and the key."""
    from extract.crawl import load_sources
    from extract.crawl.registry import RegistryError

    try:
        known = {s.slug for s in load_sources(path)}
    except RegistryError as exc:
        raise _fail(escape(str(exc))) from None
    unknown = sorted(set(slugs or ()) - known)
    if unknown:
        raise _fail(f"unknown source(s) {escape(', '.join(unknown))} in {escape(str(path))}; "
                    f"known: {escape(', '.join(sorted(known)))}")


def _years(spec: Optional[str]) -> Optional[list[int]]:
    if not spec:
        return None
    years: set[int] = set()
    try:
        for part in spec.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-", 1)
                years.update(range(int(a), int(b) + 1))
            elif part:
                years.add(int(part))
    except ValueError:
        raise _fail(f"--years {escape(spec)}: expected years like 2019-2021 or 2020,2022") from None
    return sorted(years)


@app.command()
def nightly(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    batch_size: BatchOpt = 0,
    workers: WorkersOpt = None,
    dask_address: DaskOpt = None,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: OcrOpt = True,
) -> None:
    """The nightly job: crawl every source, then load what is new or changed (or fetched but not yet loaded).

    Also re-extracts what an older parser version handled. Keeps a run summary in the `runs` view."""
    settings = _settings(limit, pdf_engine, ocr)
    _registry(sources_file)
    with _progress(label="working", warehouse=warehouse), _unreachable() as failed:
        from .run import nightly_flow

        res = _call(nightly_flow, workers, dask_address, registry=str(sources_file), warehouse=str(warehouse),
                    batch_size=batch_size, parallelism=_parallelism(workers, dask_address), settings=settings)
    res = failed.summary or res
    _print_crawl(res.crawl, res.crawl.skipped)
    _print_summary(res.load, warehouse)
    _exit_for(res)


@app.command()
def backfill(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    years: Annotated[Optional[str], typer.Option(help="Years: 2019-2021 or 2020,2022.")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this source slug (repeatable).")] = None,
    reparse: Annotated[bool, typer.Option("--reparse", help="Re-extract from the raw store (and ingested files) without fetching.")] = False,
    batch_size: BatchOpt = 0,
    workers: WorkersOpt = None,
    dask_address: DaskOpt = None,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: OcrOpt = True,
) -> None:
    """Backfill years and/or sources by hand (crawl and load, or --reparse from the raw store).

    Without --reparse the chosen sources/years are crawled and what is missing is loaded; with
    --reparse what the warehouse already has is re-extracted, nothing is fetched (after a parser
    upgrade)."""
    settings = _settings(limit, pdf_engine, ocr)
    if not reparse:
        _registry(sources_file, source)
    chosen_years = _years(years)
    with _progress(label="extracting", warehouse=warehouse), _unreachable() as failed:
        from .run import backfill_flow

        res = _call(backfill_flow, workers, dask_address, registry=str(sources_file) if not reparse else None,
                    warehouse=str(warehouse), years=chosen_years, sources=source, reparse=reparse,
                    batch_size=batch_size, parallelism=_parallelism(workers, dask_address), settings=settings)
    res = failed.summary or res
    if res.crawl is not None:
        _print_crawl(res.crawl, [])
    _print_summary(res.load, warehouse)
    _exit_for(res)


@app.command()
def serve(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    cron: Annotated[str, typer.Option(help="When to run, as cron, in --timezone.")] = "30 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the cron schedule.")] = "Asia/Shanghai",
    print_only: Annotated[bool, typer.Option("--print", help="Show the deployment that would be served and exit.")] = False,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: OcrOpt = True,
) -> None:
    """Serve `nightly` as a Prefect deployment on a cron schedule (Asia/Shanghai by default).

    A long-running process (flow.serve) that starts the nightly flow on schedule. Needs a Prefect
    server for the schedule and the UI: `uv run prefect server start`, then
    PREFECT_API_URL=http://127.0.0.1:4200/api."""
    _schedule_ok(cron, timezone)
    _registry(sources_file)
    params = {"registry": str(sources_file.resolve()), "warehouse": str(warehouse.resolve())}
    if limit or pdf_engine or not ocr:  # deployment parameters are JSON: the flow reads them back into ExtractSettings
        settings = _settings(limit, pdf_engine, ocr)
        params["settings"] = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    if not print_only:
        _server_or_fail()
    from prefect.schedules import Cron

    from .run import nightly_flow

    if print_only:
        dep = nightly_flow.to_deployment(name="xxgk-nightly", schedules=[Cron(cron, timezone=timezone)],
                                         parameters=params)
        sched = dep.schedules[0].schedule
        out.print(Text(f"deployment xxgk-nightly/xxgk-nightly: cron {sched.cron!r} in {sched.timezone}, "
                       f"parameters {params}"))
        return
    err.print(f"serving xxgk-nightly ({escape(cron)} in {escape(timezone)}) on the Prefect server; Ctrl-C stops")
    nightly_flow.serve(name="xxgk-nightly", schedules=[Cron(cron, timezone=timezone)], parameters=params)


def _schedule_ok(cron: str, timezone: str) -> None:
    """A bad --cron or --timezone is one line, before anything is served (checked by
    Prefect's own schedule model, the one the deployment uses)."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fail(f"--timezone {escape(timezone)}: not a time zone (e.g. Asia/Shanghai, UTC)") from None
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        why = "; ".join(e["msg"] for e in exc.errors())
        raise _fail(f"--cron {escape(cron)}: {escape(why)} (five fields: minute hour day month weekday, "
                    "e.g. '30 2 * * *')") from None


SERVER_HOWTO = ("start one with `uv run prefect server start` (in another terminal or as a service) and "
                "set PREFECT_API_URL=http://127.0.0.1:4200/api (or `uv run prefect config set PREFECT_API_URL=...`)")


def _server_or_fail() -> None:
    """`serve` needs a running Prefect server (scheduled runs are created by its scheduler):
    refuse, saying how to start one, when none is configured or reachable."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise _fail(f"serve needs a Prefect server, and none is configured: {escape(SERVER_HOWTO)}")
    try:
        httpx.get(url.rstrip("/") + "/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise _fail(f"serve needs a Prefect server: none answers at {escape(url)} ({escape(str(exc))}); "
                    f"{escape(SERVER_HOWTO)}") from None


@app.command()
def quarantine(
    warehouse: WarehouseOpt = Path("warehouse"),
    retry: Annotated[bool, typer.Option("--retry", help="Re-extract them (after a parser fix), from the raw store or their source file.")] = False,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format of the list: table, csv, json (lines), parquet (needs --output).")] = Fmt.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the list to this file instead of the terminal.")] = None,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: OcrOpt = True,
) -> None:
    """List the documents that could not be extracted, with their reason; --retry re-extracts them.

    Quarantined documents have status failed or unsupported; their bytes are kept (raw store or
    their source file). --limit, --pdf-engine and --ocr/--no-ocr are those of the re-extraction,
    as in `xxgk run`."""
    from load.reads import quarantined

    if fmt is Fmt.parquet and output is None and not retry:
        raise _fail("--format parquet needs --output FILE")
    try:
        docs = quarantined(warehouse)
    except FileNotFoundError as exc:
        raise _fail(escape(str(exc)), EXIT_INTERNAL) from None
    if retry:
        _retry(docs, warehouse, _settings(limit, pdf_engine, ocr))
        return
    _print_quarantine(docs, fmt, output)


QUARANTINE_COLUMNS = ("source", "status", "reason", "format", "raw_path", "ingested_at")


def _print_quarantine(docs: list[StoredDocument], fmt: Fmt, output: Path | None) -> None:
    """The list as a table (terminal), CSV or JSON Lines (terminal or -o), or Parquet (-o)."""
    rows = [{k: getattr(d, k) for k in QUARANTINE_COLUMNS} for d in docs]
    if fmt is Fmt.parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {k: [r[k] for r in rows] for k in QUARANTINE_COLUMNS}
        pq.write_table(pa.table(cols) if rows else pa.table({k: pa.array([], pa.string()) for k in cols}), output)
    elif fmt in (Fmt.csv, Fmt.json):
        import csv
        import io

        buf = io.StringIO()
        if fmt is Fmt.csv:
            w = csv.DictWriter(buf, QUARANTINE_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        else:
            buf.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
        if output is None:
            sys.stdout.write(buf.getvalue())
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(buf.getvalue(), encoding="utf-8")
    else:
        t = _table("status", "reason", "source", "kept at", title=f"quarantine: {len(docs)} document(s)")
        for d in docs:
            t.add_row(*_cells((d.status, d.reason or "", d.source, d.raw_path or d.source)))
        if output is None:
            out.print(t)
            return
        with open(output, "w", encoding="utf-8") as fh:
            Console(file=fh, width=200, emoji=False, highlight=False).print(t)
    err.print(Text(f"wrote {len(docs)} document(s) to {output}"))


def _retry(docs: list[StoredDocument], warehouse: Path, settings: ExtractSettings) -> None:
    """Re-extract quarantined documents from their kept bytes."""
    if not docs:
        out.print("nothing in quarantine")
        return
    from .items import WorkItem

    work = []
    for d in docs:
        if d.bytes_at(warehouse).exists():
            work.append(WorkItem.of_stored(d, warehouse))
        else:
            err.print(f"[yellow]{escape(d.source)}: its bytes are gone (no raw copy, no source file)[/]")
    if not _use_prefect(None):
        with _said_when_stopped(), _progress(len(work), "re-extracting", warehouse, first="re-extracting"):
            from .work import run_local

            res = run_local(items=work, warehouse=str(warehouse), force=True, settings=settings)
    else:
        with _progress(len(work), "re-extracting", warehouse):
            from .run import run_flow

            res = _call(run_flow, items=work, warehouse=str(warehouse), force=True, settings=settings)
    _print_summary(res.load, warehouse)


@app.command()
def compact(
    warehouse: WarehouseOpt = Path("warehouse"),
    grace: Annotated[float, typer.Option("--grace", help="Seconds the replaced files stay for queries already "
                                                           "running before they are deleted.")] = 300.0,
) -> None:
    """Merge the warehouse's load files into one file per table and data year.

    Safe to interrupt (nothing is visible until the merged files are committed) and to run at
    any time; nightly runs add a few files each, so compact weekly or monthly."""
    from load import compact_warehouse

    res = compact_warehouse(warehouse, grace)
    b, a = res.files_before, res.files_after
    out.print("files per table: " + ", ".join(f"{t} {b[t]} → {a[t]}" for t in b))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the views: documents, reports, facts, checks, t3_wide, "
                                            "report_metrics, failed_checks, cross_year_checks, late_reports, "
                                            "duplicates, bodies, stale_documents.")],
    warehouse: WarehouseOpt = Path("warehouse"),
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format (parquet needs --output).")] = Fmt.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the result to this file instead of the terminal, in the format its "
                                                         "extension names (.csv, .xlsx, .parquet, .json/.jsonl; else csv) "
                                                         "unless --format says otherwise.")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", "-n", min=0, help="Rows drawn in the table (0: all); csv, json and -o give every row.")] = 50,
) -> None:
    """Run read-only SQL against the warehouse's DuckDB views.

    On the terminal the first --max-rows rows are shown, with "N of M rows" and the time the
    query took; --format csv/json print every row, -o writes every row to a file."""
    import duckdb

    if fmt is Fmt.parquet and output is None:
        raise _fail("--format parquet needs --output FILE")
    con = _open(warehouse, *([output] if output is not None else []))
    _check_read_only(con, sql)
    started = time.monotonic()
    try:
        if output is not None:
            n = _write_result(con, sql, output, fmt.value if fmt is not Fmt.table else _format_of(output))
            err.print(Text(f"wrote {n} row{'s' * (n != 1)} to {output} in {time.monotonic() - started:.1f} s"))
            return
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        if fmt is not Fmt.table:
            _stream_rows(cur, cols, fmt)
            return
        rows = cur.fetchmany(max_rows) if max_rows > 0 else cur.fetchall()
        more = len(cur.fetchall()) if max_rows > 0 else 0  # counted, not drawn
    except duckdb.Error as exc:
        raise _sql_error(con, exc) from None
    finally:
        con.close()
    t = _table(*cols)
    for row in rows:
        t.add_row(*_cells(row))
    out.print(t)
    total = len(rows) + more
    shown = f"{len(rows)} of {total} rows (--max-rows 0 shows all)" if more else f"{total} row{'s' * (total != 1)}"
    err.print(f"{shown} in {time.monotonic() - started:.2f} s")


def _format_of(path: Path) -> str:
    """The file format `-o PATH` asks for by its extension (csv when it names none)."""
    suffix = path.suffix.lower()
    return {".parquet": "parquet", ".xlsx": "xlsx", ".json": "json", ".jsonl": "json", ".ndjson": "json"}.get(suffix, "csv")


def _stream_rows(cur, cols: list[str], fmt: Fmt) -> None:
    """Every row of `cur` as CSV or JSON Lines on stdout, a thousand at a time."""
    import csv

    from load.excel import csv_value

    w = csv.writer(sys.stdout) if fmt is Fmt.csv else None
    if w is not None:
        w.writerow(cols)
    while batch := cur.fetchmany(1000):
        if w is not None:
            w.writerows([csv_value(v) for v in row] for row in batch)
        else:
            sys.stdout.writelines(json.dumps(dict(zip(cols, row)), ensure_ascii=False, default=str) + "\n"
                                  for row in batch)


def _sql_error(con, exc: Exception) -> typer.Exit:
    """A failed query as a one-line error; an unknown table or view lists the views."""
    msg = " ".join(str(exc).split())
    hint = ""
    if "does not exist" in msg and ("Table" in msg or "View" in msg):
        try:
            views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                               "ORDER BY 1").fetchall()]
            hint = "; the views are: " + ", ".join(v for v in views if not v.startswith("_"))
        except Exception:  # noqa: BLE001 - the hint is a courtesy
            hint = ""
    return _fail(f"SQL error: {escape(msg)}{escape(hint)}")


def _check_read_only(con, sql: str) -> None:
    from load import NotReadOnly, read_only_sql

    try:
        read_only_sql(con, sql)
    except NotReadOnly as exc:
        con.close()
        msg = str(exc)
        if msg.startswith("not valid SQL: "):
            raise _fail(f"SQL error: {escape(' '.join(msg.removeprefix('not valid SQL: ').split()))}") from None
        raise _fail(f"refused: {escape(msg)}") from None


def _write_result(con, sql: str, path: Path, fmt: str, labels: str | None = None, bom: bool = True) -> int:
    """load.reads.write_result, with a result too large for the format as a usage error."""
    from load.reads import ResultTooLarge, write_result

    try:
        return write_result(con, sql, path, fmt, labels, bom)
    except ResultTooLarge as exc:
        raise _fail(escape(str(exc))) from None


def _province_prefix(name: str) -> str:
    """`江苏`, `江苏省` or `32` → the 2-digit GB/T 2260 province prefix."""
    if name.isdigit():
        return name[:2]
    from transform.region import resolve

    code = resolve(name).code
    if code is None:
        raise _fail(escape(f"unknown province {name!r} (a name such as 江苏 or 江苏省, or a 2-digit code such as 32)"))
    return code[:2]


@app.command()
def export(
    view: Annotated[str, typer.Argument(help="The view to export (reports, facts, t3_wide, report_metrics, cross_year_checks, …).")],
    to: Annotated[ExportFmt, typer.Option("--to", help="File format.")] = ExportFmt.xlsx,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file (default: VIEW.FORMAT).")] = None,
    province: Annotated[Optional[str], typer.Option(help="Only bodies of this province (name, short name or 2-digit code).")] = None,
    year: Annotated[Optional[int], typer.Option(help="Only this data year.")] = None,
    body: Annotated[Optional[str], typer.Option(help="Only bodies whose name contains this text.")] = None,
    where: Annotated[Optional[str], typer.Option(help="Extra SQL condition on the view's own columns.")] = None,
    labels: Annotated[Optional[Labels], typer.Option(help="Column headers in Chinese (zh) in xlsx and csv.")] = None,
    bom: Annotated[bool, typer.Option(help="CSV starts with a UTF-8 BOM (what Excel needs to read it as UTF-8).")] = True,
    warehouse: WarehouseOpt = Path("warehouse"),
) -> None:
    """Export a view (filtered by province, year or body) to Excel, CSV or Parquet.

    xlsx has column widths, a frozen header, an autofilter, integers as integers, rates as
    percentages and dates as dates; CSV starts with a UTF-8 BOM unless --no-bom."""
    import duckdb

    from load.reads import BadFilter, export_sql

    prefix = _province_prefix(province) if province else None
    path = output or Path(f"{view}.{to.value}")
    con = _open(warehouse, path)
    try:
        try:
            sql = export_sql(con, view, year, prefix, body, where)
        except BadFilter as exc:
            raise _fail(escape(str(exc))) from None
        _check_read_only(con, sql)
        n = _write_result(con, sql, path, to.value, labels.value if labels else None, bom)
    except duckdb.Error as exc:
        raise _sql_error(con, exc) from None
    finally:
        con.close()
    out.print(Text(f"wrote {n} row{'s' * (n != 1)} of {view} to {path}"))


@app.command()
def verify(warehouse: WarehouseOpt = Path("warehouse")) -> None:
    """Check every warehouse file against what its load recorded (size, rows, SHA-256) and
    every raw file against its hash. Exit 1 when something is damaged (then `xxgk repair`)."""
    from load.verify import verify as check

    res = check(warehouse)
    for d in res.damage:
        out.print(f"damaged: {d.path}: {d.reason}")
    out.print(f"checked {res.files} table files and {res.raw_files} raw files: "
              + (f"{len(res.damage)} damaged; run `xxgk repair -w {warehouse}`" if res.damage else "all intact"))
    if res.damage:
        raise typer.Exit(1)


@app.command()
def repair(warehouse: WarehouseOpt = Path("warehouse")) -> None:
    """Set damaged files aside (under damaged/) and re-extract the documents they held from
    the raw store (or their source files), so the tables equal an undamaged warehouse."""
    from load.verify import set_aside
    from load.verify import verify as check

    found = check(warehouse)
    if not found.damage:
        out.print("nothing damaged")
        return
    docs = set_aside(warehouse, found)
    for d in found.damage:
        out.print(f"set aside: {d.path} ({d.reason})")
    if not docs:
        return
    from .items import WorkItem

    work = [WorkItem.of_stored(d, warehouse) for d in docs if d.bytes_at(warehouse).exists()]
    for d in docs:
        if not d.bytes_at(warehouse).exists():
            err.print(f"[yellow]{d.source}: its bytes are gone (no raw copy, no source file): not reloaded[/]")
    with _progress(len(work), "re-extracting"):
        from .run import run_flow

        res = _call(run_flow, items=work, warehouse=str(warehouse), force=True)
    _print_summary(res.load, warehouse)


@app.command()
def demo(warehouse: WarehouseOpt = Path("warehouse")) -> None:
    """Run the main job on the bundled sample (data/sample/) into ./warehouse and show example queries."""
    summary = _run([SAMPLE_DIR], warehouse, 0)
    _print_summary(summary, warehouse)
    from load.reads import example_results

    for res in example_results(warehouse):
        t = _table(*res.columns, title=res.title)
        for row in res.rows:
            t.add_row(*_cells(row))
        out.print(t)
    out.print(Text(f"Query it yourself: uv run xxgk query \"SELECT * FROM report_metrics\" --warehouse {warehouse}"))


def _generator():
    from .generator import load_generator

    try:
        return load_generator()
    except FileNotFoundError as exc:
        raise _fail(escape(str(exc))) from None


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the documents and their .truth.json files to.")],
    count: Annotated[int, typer.Option("--count", "-n", help="Number of documents.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same documents.")] = 7,
    broken: Annotated[float, typer.Option(help="Share of documents whose sums break an identity (listed in their truth file).")] = 0.0,
    formats: Annotated[str, typer.Option(help="Comma-separated formats, used in rotation: html, docx, pdf, text.")] = "html,docx,pdf,text",
    start: Annotated[int, typer.Option(help="Index of the first document (to extend a corpus).")] = 0,
    pdf_engine: Annotated[str, typer.Option(help="reportlab (fast, no dependencies), libreoffice (DOCX converted by soffice, "
                                            "closer to published PDFs) or chromium (the HTML page printed by headless "
                                            "Chromium, as from a browser).")] = "reportlab",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for large corpora (documents are independent).")] = 1,
    scan: Annotated[bool, typer.Option("--scan", help="Scans, to measure OCR: PDFs as image-only pages (turned, blurred, noisy, JPEG) and HTML pages whose tables are such pictures.")] = False,
) -> None:
    """Generate realistic reports with ground truth (for tests, demos and benchmarks).

    Every document gets <name>.truth.json beside it: the facts and metadata `xxgk extract --json`
    must yield; `bench/accuracy.py DIR` scores the extractor against them."""
    gen = _generator()
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    try:
        gen.check_asked(chosen, pdf_engine, scan)  # the generator's refusals (it is a script too): one line, exit 2
    except SystemExit as exc:
        raise _fail(escape(str(exc.code))) from None
    with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("generate", total=count)
        paths = gen.generate(out_dir, count, seed, broken, chosen, start, progress=lambda n: bar.advance(task, n),
                             pdf_engine=pdf_engine, jobs=jobs, scan=scan)
    out.print(Text(f"wrote {len(paths)} documents with truth files to {out_dir}"))


from . import cli_analysts  # noqa: E402,F401  (registers dictionary, show, report on `app`)


def _on_sigterm(signum, frame) -> None:
    import signal

    from .ending import Terminated

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second one must not cut the unwinding short
    raise Terminated(128 + signum)


def main() -> None:
    """The console script: user errors (xxgk's own errors) as one line with exit 2, anything
    else as one line with exit 1; `--debug` shows the traceback. Ctrl-C exits 130 and
    SIGTERM 143, both after stopping what the run started."""
    import signal

    from common import XxgkError

    from .ending import Terminated

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Terminated as exc:
        err.print("terminated")
        sys.exit(exc.code)
    except Exception as exc:  # noqa: BLE001 - the CLI edge: every error becomes one line
        if _DEBUG:
            err.print_exception()
        hint = "" if _DEBUG else " (--debug shows the traceback)"
        if isinstance(exc, XxgkError):
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            sys.exit(EXIT_USAGE)
        err.print(f"[red]internal error:[/red] {escape(type(exc).__name__)}: {escape(str(exc))}{hint}")
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
