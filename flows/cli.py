"""The `xxgk` command line. Only this module prints.

`extract` and `query` never import Prefect (they answer in about a second); `run` and
`demo` run the Prefect flow (ephemeral API unless PREFECT_API_URL points at a server).
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:  # (imported where used: `xxgk query` must not import the readers or Prefect)
    from extract import ExtractSettings
    from load.reads import StoredDocument

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
out = Console(soft_wrap=True)
err = Console(stderr=True)

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


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (searched recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per document (JSON Lines).")] = False,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: Annotated[bool, typer.Option("--ocr/--no-ocr", help="Read scans (PDF pages without text) and images by OCR (RapidOCR, when installed).")] = True,
) -> None:
    """Extract and check documents; print the results, write nothing.

    Formats are detected from the bytes: PDF (text layer; scans are `unsupported`), HTML (UTF-8 or
    GBK family), DOCX, plain text. Legacy .doc/.wps are converted with LibreOffice (soffice) when it
    is installed, otherwise reported `unsupported`. A bad document never stops the batch: it gets
    status `failed` with a reason, and the exit code stays 0.
    """
    from transform.serialize import result_to_json

    from .discover import discover_files
    from .sandbox import process_isolated

    settings = _settings(limit, pdf_engine, ocr)
    files = discover_files(paths)
    if not files:
        err.print("[red]no files found[/red]")
        raise typer.Exit(2)
    rows = []
    for f in files:
        res = result_to_json(process_isolated(f, settings))
        if as_json:
            sys.stdout.write(json.dumps(res, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            rows.append(res)
    if not as_json:
        t = Table("source", "status", "template", "year", "agency", "facts", "failed checks", "reason")
        for r in rows:
            t.add_row(r["source"], r["status"], r["template"] or "", str(r["year"] or ""), r["agency"] or "",
                      str(len(r["facts"])), str(sum(1 for c in r["checks"] if c["passed"] is False)),
                      r["reason"] or "")
        out.print(t)


def _print_summary(summary: LoadSummary, warehouse: Path) -> None:
    keys = ("documents", "unchanged", "ok", "partial", "failed", "unsupported", "facts_loaded")
    t = Table(*(k.replace("_", " ") for k in keys), title=f"run → {warehouse}")
    t.add_row(*(str(getattr(summary, k)) for k in keys))
    out.print(t)
    for p in summary.problems:
        out.print(f"  [yellow]{p.status}[/yellow] {p.source}: {p.reason}")


@contextlib.contextmanager
def _progress(total: int | None = None, label: str = "running"):
    """A progress bar the flows advance (it says "starting Prefect" until the first
    document: import the flow inside the block). A busy warehouse ends the command with
    exit code 3."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("starting Prefect", total=total)
        from load import WarehouseBusy

        from .progress import set_hook

        set_hook(lambda n: progress.update(task, description=label, advance=n))
        try:
            yield
        except WarehouseBusy as exc:
            progress.stop()
            err.print(f"[red]{exc}[/red] (another xxgk run is writing to it; nothing was written)")
            raise typer.Exit(3)
        finally:
            set_hook(None)


def _call(flow_fn, workers: int | None = None, address: str | None = None, **params):
    """Call a flow on the chosen task runner (one shared Prefect API when its tasks run in
    other processes)."""
    from .runners import cli_settings, shared_api, with_runner

    fn = with_runner(flow_fn, workers, address)  # before the API: overlaps start-ups
    with shared_api(bool(workers and workers > 1) or bool(address)), cli_settings():
        return fn(**params)


def _open(warehouse: Path, *writable: Path):
    """A read-only connection to the warehouse's views (that may write only `writable`), or
    a clear error and exit 1."""
    from load import LoadError, connect_readonly

    try:
        return connect_readonly(warehouse, writable)
    except (FileNotFoundError, LoadError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)


def _parallelism(workers: int | None, address: str | None) -> int:
    if address:
        return 8  # an existing cluster: its size is unknown here, so cut finer batches
    return max(1, workers or 1)


def _run(paths: list[Path], warehouse: Path, batch_size: int, workers: int | None = None,
         address: str | None = None, force: bool = False, settings: ExtractSettings | None = None,
         stale: bool = False) -> LoadSummary:
    from .discover import discover_files

    n = None if stale else len(discover_files(paths))  # stale documents: counted by the flow
    if n == 0:
        err.print(f"[yellow]no documents found in {', '.join(map(str, paths))} (hidden files are skipped)[/]")
    with _progress(n, "extracting"):
        from .run import DEFAULT_SETTINGS, run_flow

        return _call(run_flow, workers, address, paths=[str(p) for p in paths], warehouse=str(warehouse),
                     batch_size=batch_size, force=force, parallelism=_parallelism(workers, address),
                     settings=settings or DEFAULT_SETTINGS, stale=stale).load


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
    help="PDF reader (default: ExtractSettings.pdf_engine): pdfium (pypdfium2, fast) or pdfminer (pdfminer.six, "
         "the reference). A document PDFium cannot read exactly like pdfminer is read with pdfminer.")]


def _settings(specs: Optional[list[str]], pdf_engine: PdfEngine | None = None, ocr: bool = True) -> ExtractSettings:
    """--limit NAME=VALUE options (and --pdf-engine, --ocr/--no-ocr) → the run's ExtractSettings (resolved
    here, once), or a clear error."""
    from extract import ExtractSettings

    fields = {k: f for k, f in ExtractSettings.__dataclass_fields__.items() if k not in ("pdf_engine", "ocr")}
    limits: dict = {"pdf_engine": pdf_engine.value} if pdf_engine else {}
    for spec in specs or ():
        name, _, value = spec.partition("=")
        name = name.strip().replace("-", "_")
        if name not in fields or name == "ocr" or not value.strip():
            err.print(f"[red]--limit {spec}: expected NAME=VALUE with NAME one of {', '.join(f for f in fields if f != 'ocr')}[/red]")
            raise typer.Exit(2)
        kind = int if fields[name].type in (int, "int") else float
        try:
            limits[name] = kind(float(value)) if kind is int else kind(value)
        except ValueError:
            err.print(f"[red]--limit {spec}: {value!r} is not a number[/red]")
            raise typer.Exit(2)
        if limits[name] <= 0:
            err.print(f"[red]--limit {spec}: must be positive[/red]")
            raise typer.Exit(2)
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
        err.print(f"[red]{escape(str(exc))}[/red] (nothing was read or written)")
        raise typer.Exit(2)


BatchOpt = Annotated[int, typer.Option(help="Documents per batch (0: automatic: about 4 batches in-process, 2 per worker on a cluster, at least 25 documents each).")]
WorkersOpt = Annotated[Optional[int], typer.Option("--workers", help="Run tasks on a local Dask cluster of N worker processes (prefect-dask).")]
DaskOpt = Annotated[Optional[str], typer.Option("--dask-address", help="Run tasks on an existing Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786).")]
SourcesFileOpt = Annotated[Path, typer.Option("--sources-file", "-s", help="The source registry (TOML); see data/sources.example.toml.")]


@app.command()
def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or directories to ingest.")] = None,
    warehouse: WarehouseOpt = Path("warehouse"),
    batch_size: BatchOpt = 0,
    stale: Annotated[bool, typer.Option("--stale", help="Also re-extract every document an older parser version handled (the `stale_documents` view).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-extract documents the warehouse already holds from this parser version.")] = False,
    workers: WorkersOpt = None,
    dask_address: DaskOpt = None,
    limit: LimitOpt = None,
    pdf_engine: PdfEngineOpt = None,
    ocr: Annotated[bool, typer.Option("--ocr/--no-ocr", help="Read scans and images by OCR (RapidOCR, when installed).")] = True,
) -> None:
    """Run the Prefect flow: extract → transform → check → load into the warehouse.

    Documents already loaded (same source, same bytes, same parser version) are skipped; re-running
    changed ones replaces their rows. Bad documents are recorded in `documents` with their reason
    (and a copy in the raw store); the run goes on and exits 0.
    """
    settings = _settings(limit, pdf_engine, ocr)
    paths = list(paths or [])
    if not paths and not stale:
        err.print("nothing to do: give files or directories (or --stale)")
        raise typer.Exit(2)
    summary = _run(paths, warehouse, batch_size, workers, dask_address, force, settings, stale)
    _print_summary(summary, warehouse)


def _print_crawl(crawl: CrawlSummary, items: list, verbose: bool = False) -> None:
    """The crawl's counts, then those of `items` skipped or failed (all of them if `verbose`)."""
    c = crawl.counts
    out.print(f"crawl of {len(crawl.sources)} source(s), {crawl.requests} requests: "
              + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) if c else "crawl: nothing found")
    for it in items:
        if it.status in ("skipped", "failed") or verbose:
            out.print(f"  [yellow]{it.status}[/yellow] {it.url}" + (f": {it.reason}" if it.reason else ""))


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
    with _progress(label="fetching"):
        from .run import crawl_flow

        res = _call(crawl_flow, registry=str(sources_file), warehouse=str(warehouse), sources=source,
                    years=_years(years), dry_run=dry_run)
    if dry_run:
        for it in res.items:
            if it.kind != "list":
                out.print(f"  {it.status:8} {it.year or '':4} {it.url}  {it.title or ''}")
    _print_crawl(res, res.items, verbose and not dry_run)


def _years(spec: Optional[str]) -> Optional[list[int]]:
    if not spec:
        return None
    years: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            years.update(range(int(a), int(b) + 1))
        elif part:
            years.add(int(part))
    return sorted(years)


@app.command()
def nightly(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    batch_size: BatchOpt = 0,
    workers: WorkersOpt = None,
    dask_address: DaskOpt = None,
    limit: LimitOpt = None,
) -> None:
    """The nightly job: crawl every source, then load what is new or changed (or fetched but not yet loaded).

    Also re-extracts what an older parser version handled. Keeps a run summary in the `runs` view."""
    settings = _settings(limit)
    with _progress(label="working"):
        from .run import nightly_flow

        res = _call(nightly_flow, workers, dask_address, registry=str(sources_file), warehouse=str(warehouse),
                    batch_size=batch_size, parallelism=_parallelism(workers, dask_address), settings=settings)
    _print_crawl(res.crawl, res.crawl.skipped)
    _print_summary(res.load, warehouse)


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
) -> None:
    """Backfill years and/or sources by hand (crawl and load, or --reparse from the raw store).

    Without --reparse the chosen sources/years are crawled and what is missing is loaded; with
    --reparse what the warehouse already has is re-extracted, nothing is fetched (after a parser
    upgrade)."""
    settings = _settings(limit)
    with _progress(label="extracting"):
        from .run import backfill_flow

        res = _call(backfill_flow, workers, dask_address, registry=str(sources_file) if not reparse else None,
                    warehouse=str(warehouse), years=_years(years), sources=source, reparse=reparse,
                    batch_size=batch_size, parallelism=_parallelism(workers, dask_address), settings=settings)
    if res.crawl is not None:
        _print_crawl(res.crawl, [])
    _print_summary(res.load, warehouse)


@app.command()
def serve(
    sources_file: SourcesFileOpt = Path("sources.toml"),
    warehouse: WarehouseOpt = Path("warehouse"),
    cron: Annotated[str, typer.Option(help="When to run, as cron, in --timezone.")] = "30 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the cron schedule.")] = "Asia/Shanghai",
    print_only: Annotated[bool, typer.Option("--print", help="Show the deployment that would be served and exit.")] = False,
    limit: LimitOpt = None,
) -> None:
    """Serve `nightly` as a Prefect deployment on a cron schedule (Asia/Shanghai by default).

    A long-running process (flow.serve) that starts the nightly flow on schedule. Needs a Prefect
    server for the schedule and the UI: `uv run prefect server start`, then
    PREFECT_API_URL=http://127.0.0.1:4200/api."""
    from prefect.schedules import Cron

    from .run import nightly_flow

    params = {"registry": str(sources_file.resolve()), "warehouse": str(warehouse.resolve())}
    if limit:  # deployment parameters are JSON: the flow reads them back into ExtractSettings
        settings = _settings(limit)
        params["settings"] = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    if print_only:
        dep = nightly_flow.to_deployment(name="xxgk-nightly", schedules=[Cron(cron, timezone=timezone)],
                                         parameters=params)
        sched = dep.schedules[0].schedule
        out.print(f"deployment xxgk-nightly/xxgk-nightly: cron {sched.cron!r} in {sched.timezone}, parameters {params}")
        return
    nightly_flow.serve(name="xxgk-nightly", schedules=[Cron(cron, timezone=timezone)], parameters=params)


@app.command()
def quarantine(
    warehouse: WarehouseOpt = Path("warehouse"),
    retry: Annotated[bool, typer.Option("--retry", help="Re-extract them (after a parser fix), from the raw store or their source file.")] = False,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format of the list.")] = Fmt.table,
    limit: LimitOpt = None,
) -> None:
    """List the documents that could not be extracted, with their reason; --retry re-extracts them.

    Quarantined documents have status failed or unsupported; their bytes are kept (raw store or
    their source file)."""
    from load.reads import quarantined

    try:
        docs = quarantined(warehouse)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)
    if retry:
        _retry(docs, warehouse, _settings(limit))
        return
    if fmt is Fmt.json:
        for d in docs:
            row = {k: getattr(d, k) for k in ("source", "status", "reason", "format", "raw_path", "ingested_at")}
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    t = Table("status", "reason", "source", "kept at", title=f"quarantine: {len(docs)} document(s)")
    for d in docs:
        t.add_row(d.status, d.reason or "", d.source, d.raw_path or d.source)
    out.print(t)


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
            err.print(f"[yellow]{d.source}: its bytes are gone (no raw copy, no source file)[/]")
    with _progress(len(work), "re-extracting"):
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
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the result to this file instead of the terminal.")] = None,
) -> None:
    """Run read-only SQL against the warehouse's DuckDB views."""
    import duckdb

    if fmt is Fmt.parquet and output is None:
        err.print("[red]--format parquet needs --output FILE[/]")
        raise typer.Exit(2)
    con = _open(warehouse, *([output] if output is not None else []))
    _check_read_only(con, sql)
    if output is not None:
        try:
            n = _write_result(con, sql, output, fmt.value if fmt is not Fmt.table else "csv")
        except duckdb.Error as exc:
            err.print(f"[red]query failed:[/red] {exc}")
            raise typer.Exit(1)
        finally:
            con.close()
        err.print(f"wrote {n} rows to {output}")
        return
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        data = cur.fetchall() if cols else []
    except duckdb.Error as exc:
        err.print(f"[red]query failed:[/red] {exc}")
        raise typer.Exit(1)
    finally:
        con.close()
    if fmt is Fmt.json:
        for row in data:
            sys.stdout.write(json.dumps(dict(zip(cols, row)), ensure_ascii=False, default=str) + "\n")
    elif fmt is Fmt.csv:
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(data)
    else:
        t = Table(*cols)
        for row in data:
            t.add_row(*("" if v is None else str(v) for v in row))
        out.print(t)


def _check_read_only(con, sql: str) -> None:
    from load import NotReadOnly, read_only_sql

    try:
        read_only_sql(con, sql)
    except NotReadOnly as exc:
        con.close()
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(2)


def _write_result(con, sql: str, path: Path, fmt: str, labels: str | None = None, bom: bool = True) -> int:
    """load.reads.write_result, with a result too large for the format as a usage error."""
    from load.reads import ResultTooLarge, write_result

    try:
        return write_result(con, sql, path, fmt, labels, bom)
    except ResultTooLarge as exc:
        raise typer.BadParameter(str(exc)) from exc


def _province_prefix(name: str) -> str:
    """`江苏`, `江苏省` or `32` → the 2-digit GB/T 2260 province prefix."""
    if name.isdigit():
        return name[:2]
    from transform.region import resolve

    code = resolve(name).code
    if code is None:
        raise typer.BadParameter(f"unknown province {name!r}")
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
            raise typer.BadParameter(str(exc)) from exc
        _check_read_only(con, sql)
        n = _write_result(con, sql, path, to.value, labels.value if labels else None, bom)
    except duckdb.Error as exc:
        err.print(f"[red]export failed:[/red] {exc}")
        raise typer.Exit(1)
    finally:
        con.close()
    out.print(f"wrote {n} rows of {view} to {path}")


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
        t = Table(*res.columns, title=res.title)
        for row in res.rows:
            t.add_row(*("" if v is None else str(v) for v in row))
        out.print(t)
    out.print(f"Query it yourself: uv run xxgk query \"SELECT * FROM report_metrics\" --warehouse {warehouse}")


def _generator():
    from .generator import load_generator

    try:
        return load_generator()
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the documents and their .truth.json files to.")],
    count: Annotated[int, typer.Option("--count", "-n", help="Number of documents.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same documents.")] = 7,
    broken: Annotated[float, typer.Option(help="Share of documents whose sums break an identity (listed in their truth file).")] = 0.0,
    formats: Annotated[str, typer.Option(help="Comma-separated formats, used in rotation: html, docx, pdf, text.")] = "html,docx,pdf,text",
    start: Annotated[int, typer.Option(help="Index of the first document (to extend a corpus).")] = 0,
    pdf_engine: Annotated[str, typer.Option(help="reportlab (fast, no dependencies) or libreoffice (DOCX converted by soffice, closer to published PDFs).")] = "reportlab",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for large corpora (documents are independent).")] = 1,
    scan: Annotated[bool, typer.Option("--scan", help="PDFs as scans (image-only pages, turned, blurred, noisy, JPEG), to measure OCR.")] = False,
) -> None:
    """Generate realistic reports with ground truth (for tests, demos and benchmarks).

    Every document gets <name>.truth.json beside it: the facts and metadata `xxgk extract --json`
    must yield; `bench/accuracy.py DIR` scores the extractor against them."""
    gen = _generator()
    with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("generate", total=count)
        paths = gen.generate(out_dir, count, seed, broken, tuple(f.strip() for f in formats.split(",") if f.strip()),
                             start, progress=lambda n: bar.advance(task, n), pdf_engine=pdf_engine, jobs=jobs, scan=scan)
    out.print(f"wrote {len(paths)} documents with truth files to {out_dir}")


from . import cli_analysts  # noqa: E402,F401  (registers dictionary, show, report on `app`)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
