"""Reads of the warehouse that the flows and the CLI need, as typed rows: what is already
loaded, what an older parser handled, what is in quarantine, a view filtered for export,
and the demo's example queries. The SQL over the views lives here, not in flows/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from common import PARSER_VERSION
from common.errors import OCR_MISSING, OCR_OFF

from .duckdb import connect_readonly, sql_string, staging_path
from .errors import LoadError

QUARANTINE = ("failed", "unsupported")


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A current `documents` row: where its bytes are kept and what the crawl recorded."""

    source: str
    status: str
    reason: str | None
    format: str
    raw_path: str | None
    origin: str | None
    fetched_at: dt.datetime | None
    ingested_at: dt.datetime
    link_text: str | None = None
    link_year: int | None = None
    """The crawl link's text and year (the year fallback of a re-extraction)."""

    def bytes_at(self, root: Path) -> Path:
        """Where its bytes are: the raw store's copy, else the file it was read from."""
        return Path(root) / self.raw_path if self.raw_path else Path(self.source)


@dataclass(frozen=True, slots=True)
class QueryResult:
    title: str
    columns: list[str]
    rows: list[tuple]


class BadFilter(LoadError):
    """An export filter the view cannot apply."""


class ResultTooLarge(LoadError):
    """A result that does not fit the chosen file format."""


_DOCUMENT = ("d.source, d.status, d.reason, d.format, d.raw_path, d.origin, d.fetched_at, d.ingested_at, "
             "d.link_text, d.link_year")


def _fetch(root: Path, sql: str, params: list | None = None, missing_ok: bool = True) -> list[tuple]:
    """Rows of `sql` over the warehouse's views; none when there is no warehouse yet and
    `missing_ok` (else FileNotFoundError naming it)."""
    try:
        con = connect_readonly(Path(root), snapshot=True)
    except FileNotFoundError:
        if missing_ok:
            return []
        raise
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


OLD_NOT_READ_BY_OCR = (f"%({OCR_OFF})%", f"%({OCR_MISSING})%")
"""Reasons of documents whose pages or pictures were not read because OCR was off or
missing, in rows recorded before `documents.ocr_skipped` was kept (null there): the one
thing that says so in them."""


def known_documents(root: Path) -> dict[str, str]:
    """source → sha256 of the documents the warehouse holds from the current parser, but for
    those left unread because OCR was off or not installed (`ocr_skipped`; in older rows,
    their reason): a later run reads them again, by OCR when it is on."""
    return dict(_fetch(root, "SELECT source, doc_sha256 FROM documents WHERE parser_version = ? "
                             "AND NOT coalesce(ocr_skipped, coalesce(reason, '') LIKE ? OR coalesce(reason, '') LIKE ?)",
                       [PARSER_VERSION, *OLD_NOT_READ_BY_OCR]))


def stale_documents(root: Path) -> list[StoredDocument]:
    """Documents an older parser version handled (the `stale_documents` view)."""
    return [StoredDocument(*r) for r in _fetch(
        root, f"SELECT {_DOCUMENT} FROM documents d SEMI JOIN stale_documents s ON s.doc_sha256 = d.doc_sha256")]


def documents_for(root: Path, years: list[int] | None, sources: list[str] | None) -> list[StoredDocument]:
    """Documents whose report is of one of `years` and/or that came from one of `sources`
    (crawl slugs); every document when both are empty."""
    conds, params = [], []
    if years:
        conds.append(f"r.year IN ({', '.join('?' * len(years))})")
        params += list(years)
    if sources:
        conds.append(f"d.origin IN ({', '.join('?' * len(sources))})")
        params += list(sources)
    sql = (f"SELECT {_DOCUMENT} FROM documents d LEFT JOIN reports r ON r.doc_sha256 = d.doc_sha256"
           + (f" WHERE {' AND '.join(conds)}" if conds else ""))
    return [StoredDocument(*r) for r in _fetch(root, sql, params)]


def quarantined(root: Path) -> list[StoredDocument]:
    """Documents that could not be extracted (failed, unsupported), by status, reason and
    source. FileNotFoundError when there is no warehouse."""
    return [StoredDocument(*r) for r in _fetch(
        root, f"SELECT {_DOCUMENT} FROM documents d WHERE d.status IN {QUARANTINE} "
              "ORDER BY d.status, d.reason, d.source", missing_ok=False)]


def export_sql(con: duckdb.DuckDBPyConnection, view: str, year: int | None = None,
               province_prefix: str | None = None, body: str | None = None, where: str | None = None) -> str:
    """SELECT of `view` filtered by data year, province (GB/T 2260 prefix), body name and
    any condition; a view without those columns is filtered through its `report_id`."""
    if not view.replace("_", "").isalnum():
        raise BadFilter(f"not a view name: {view!r}")
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()}
    conds, report_conds = [], []
    if year is not None:
        (conds if "year" in cols else report_conds).append(f"year = {int(year)}")
    if province_prefix:
        if not province_prefix.isdigit():
            raise BadFilter(f"not a province code: {province_prefix!r}")
        (conds if "region_code" in cols else report_conds).append(f"starts_with(region_code, '{province_prefix}')")
    if body:
        safe = body.replace("'", "''")
        (conds if "agency" in cols else report_conds).append(f"agency LIKE '%{safe}%'")
    if report_conds:
        if "report_id" not in cols:
            raise BadFilter(f"view {view} has no report_id to filter by province/year/body")
        conds.append(f"report_id IN (SELECT report_id FROM reports WHERE {' AND '.join(report_conds)})")
    if where:
        conds.append(f"({where})")
    # ORDER BY ALL: the same rows in the same order on every export (files compare run to run)
    return f"SELECT * FROM {view}" + (f" WHERE {' AND '.join(conds)}" if conds else "") + " ORDER BY ALL"


EXCEL_ROWS = 1_048_575


def write_result(con: duckdb.DuckDBPyConnection, sql: str, path: Path, fmt: str,
                 labels: str | None = None, bom: bool = True) -> int:
    """Write a query's result to `path` as csv, json (lines), parquet or xlsx; returns rows.
    `con` must allow writing `path` (`connect_readonly(root, writable=(path,))`). csv and
    xlsx open right in Excel (load/excel.py): csv with a UTF-8 BOM unless `bom` is false;
    `labels="zh"` gives csv and xlsx Chinese column headers."""
    from .excel import Sheet, csv_sql, prepend_bom, write_xlsx

    path.parent.mkdir(parents=True, exist_ok=True)
    n = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    staged = staging_path(path)
    try:
        if fmt == "xlsx":
            if n > EXCEL_ROWS:
                raise ResultTooLarge(f"{n} rows do not fit an Excel sheet ({EXCEL_ROWS:,}); filter or use csv/parquet")
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description]
            write_xlsx(staged, [Sheet("xxgk", columns, cur.fetchall())], labels)
        else:
            if fmt == "csv":
                described = [(r[0], r[1]) for r in con.execute(f"DESCRIBE ({sql})").fetchall()]
                sql = csv_sql(sql, described, labels)
            options = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json",
                       "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]
            # DuckDB's own staging file (tmp_NAME) lies outside the sandbox's allowed paths:
            # the file is staged here instead, so an existing export is replaced whole or kept
            con.execute(f"COPY ({sql}) TO {sql_string(str(staged.resolve()))} ({options}, USE_TMP_FILE false)")
            if fmt == "csv" and bom:
                prepend_bom(staged)
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)
    return n


EXAMPLE_QUERIES = {
    "Facts per data year": "SELECT year, count(*) AS facts FROM facts GROUP BY 1 ORDER BY 1",
    "Reports": "SELECT agency, year, template, format, status FROM reports ORDER BY year, agency",
    "Disclosure rates": "SELECT agency, year, applications_received, round(disclosure_rate, 3) AS disclosure_rate "
                        "FROM report_metrics WHERE applications_received > 0 ORDER BY applications_received DESC",
    "Failed identities": "SELECT agency, year, rule, scope, lhs, rhs, difference FROM failed_checks ORDER BY agency, rule LIMIT 10",
    "One body over the years": "SELECT agency, year, applications_received, round(disclosure_rate, 3) AS disclosure_rate "
                               "FROM report_metrics WHERE body_id IN (SELECT body_id FROM bodies "
                               "WHERE len(years_reported) > 1) ORDER BY body_id, year",
    "Cross-year checks that fail": "SELECT agency, year, rule, scope, lhs, rhs, difference FROM cross_year_checks WHERE NOT passed",
}


def example_results(root: Path) -> list[QueryResult]:
    """The demo's example queries over a warehouse, with their results."""
    con = connect_readonly(Path(root), snapshot=True)
    try:
        out = []
        for title, sql in EXAMPLE_QUERIES.items():
            rel = con.sql(sql)
            out.append(QueryResult(title, list(rel.columns), rel.fetchall()))
        return out
    finally:
        con.close()
