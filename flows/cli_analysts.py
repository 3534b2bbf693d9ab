"""The analysts' commands of the `xxgk` CLI: `dictionary`, `show`, `report` (registered
on `flows.cli.app`; kept apart so cli.py stays the pipeline's commands)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .cli import WarehouseOpt, _fail, _open, app, err, out


@app.command()
def dictionary(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/data-dictionary.md (Markdown) instead of TSV.")] = False,
) -> None:
    """Print the data dictionary: every table/item/column code with its 中文 label as printed
    in the national form, template versions, unit and meaning (the `dictionary` view)."""
    from load.labels import dictionary_entries, dictionary_markdown

    if markdown:
        sys.stdout.write(dictionary_markdown())
        return
    sys.stdout.write("table\tkind\tcode\tlabel\tversions\tunit\tmeaning\n")
    for e in dictionary_entries():
        sys.stdout.write(f"{e.table}\t{e.kind}\t{e.code}\t{e.label}\t{','.join(e.versions)}\t{e.unit or ''}\t{e.meaning}\n")


class To(str, Enum):
    xlsx = "xlsx"


@app.command()
def show(
    report_id: Annotated[Optional[str], typer.Argument(help="A report_id (or its first digits).")] = None,
    body: Annotated[Optional[str], typer.Option(help="A body: text its name or body_id contains.")] = None,
    year: Annotated[Optional[int], typer.Option(help="The report's data year (with --body).")] = None,
    to: Annotated[Optional[To], typer.Option("--to", help="Write the three tables to a file instead of printing.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file (default: REPORT_ID.xlsx).")] = None,
    warehouse: WarehouseOpt = Path("warehouse"),
) -> None:
    """Print one report's 表二/表三/表四 as the national form lays them out (中文 labels,
    applicant columns); cells a failed identity names are marked ✗, unread cells show ?flag.
    `--to xlsx` writes them as three sheets instead."""
    from load.show import find_reports, printed_report

    if not report_id and not body:
        raise typer.BadParameter("give a REPORT_ID or --body (with --year)")
    con = _open(warehouse)
    try:
        found = find_reports(con, report_id, body, year)
        if len(found) != 1:
            _not_one(found, report_id, body, year)
        rep = printed_report(con, found[0][0])
    finally:
        con.close()
    if to is To.xlsx:
        from load.excel import write_printed

        path = output or Path(f"{rep.report_id}.xlsx")
        write_printed(path, rep)
        out.print(f"wrote 表二, 表三, 表四 of {escape(str(rep.agency))} {rep.year} to {escape(str(path))}")
        return
    _print_report(rep)


def _not_one(found: list, report_id: str | None, body: str | None, year: int | None) -> None:
    """No report or several: a one-line usage error (exit 2), listing the candidates."""
    if not found:
        what = f"report_id {report_id!r}" if report_id else f"body {body!r}" + (f" in {year}" if year else "")
        raise _fail(f"no report matches {escape(what)} (`xxgk query \"select report_id, agency, year from reports\"` "
                    "lists them)")
    err.print(f"[red]{len(found)} reports match; give a report_id or narrow --body/--year:[/red]")
    for rid, agency, yr in found[:20]:
        err.print(f"  {rid}  {escape(str(agency))}  {yr}")
    raise typer.Exit(2)


def _print_report(rep) -> None:
    from rich.table import Table

    from load.excel import printed_value

    out.print(f"[bold]{escape(str(rep.agency))} {rep.year}年政府信息公开工作年度报告[/bold]  "
              f"({escape(rep.region_name or '区划不明')}, 格式 {rep.template}, {rep.status}, report_id {rep.report_id})")
    for table in rep.tables:
        t = Table(title=table.title, title_justify="left")
        for i, head in enumerate(table.header):  # CJK has no spaces to wrap at: fold, never cut
            t.add_column(head, overflow="fold", justify="left" if i == 0 else "right", min_width=None if i else 12)
        for row in table.rows:
            if row.heading:
                t.add_row(f"[bold]{row.label}[/bold]")
                continue
            t.add_row(row.label, *(_text(c, printed_value(c)) for c in row.cells))
        out.print(t)
    if rep.failed:
        out.print("[red]勾稽关系不成立 (failed identities, cells marked ✗):[/red]")
        for f in rep.failed:
            out.print(f"  {f.rule} {f.scope}: {f.lhs} ≠ {f.rhs} (差 {f.difference})")


def _text(cell, value) -> str:
    text = "" if value is None else str(value)
    return f"[red]{text} ✗[/red]" if cell.failed else text


@app.command()
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write the report to.")] = Path("report"),
    warehouse: WarehouseOpt = Path("warehouse"),
) -> None:
    """Write a static HTML report in Chinese that works offline (open DIR/index.html): coverage,
    applications over the years, outcome mix, disclosure rates by level, remedy correction
    rates, late reports, failing bodies; a page per province and per body (its years side by
    side, its tables as printed). Charts are Plotly, its JS written beside the pages."""
    from load.htmlreport import write_report

    if output.exists() and not output.is_dir():
        raise _fail(f"{escape(str(output))} is not a directory (-o names the directory to write the report to)")
    con = _open(warehouse)
    try:
        pages = write_report(con, output)
    finally:
        con.close()
    out.print(f"wrote {len(pages)} pages to {output} (open {output / 'index.html'})")
