"""The DuckDB file: views over the Parquet tables, never data of its own."""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from common import PARSER_VERSION, atomic_write
from transform.records import SCHEMAS

from .errors import DamagedWarehouse, NotReadOnly
from .labels import dictionary_sql, fact_labels_sql
from .layout import db_path, glob_escape, table_files, table_glob

_DUCK = {
    pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN", pa.date32(): "DATE", pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.list_(pa.string()): "VARCHAR[]",
}

BASE_VIEWS = ("documents", "reports", "facts", "checks")
OTHER_VIEWS = ("runs",)
"""`runs`: one summary row per flow run (crawl, run, nightly, backfill)."""

DERIVED_VIEWS: dict[str, str] = {
    # 表三 wide: one row per canonical report and applicant column, one column per item; the
    # 2021 （六） rows are also summed into `other` so both versions compare.
    "t3_wide": """
        SELECT f.report_id, r.body_id, r.agency, r.region_name, r.region_code, r.level, f.year, f."column" AS applicant,
          max(value) FILTER (WHERE item = 'new_received') AS new_received,
          max(value) FILTER (WHERE item = 'carried_over') AS carried_over,
          max(value) FILTER (WHERE item = 'granted') AS granted,
          max(value) FILTER (WHERE item = 'partially_granted') AS partially_granted,
          sum(value) FILTER (WHERE item LIKE 'denied.%') AS denied,
          sum(value) FILTER (WHERE item LIKE 'unable.%') AS unable,
          max(value) FILTER (WHERE item = 'unable.not_held') AS not_held,
          sum(value) FILTER (WHERE item LIKE 'not_processed.%') AS not_processed,
          sum(value) FILTER (WHERE item = 'other' OR item LIKE 'other.%') AS other,
          max(value) FILTER (WHERE item = 'total_processed') AS total_processed,
          max(value) FILTER (WHERE item = 'carried_forward') AS carried_forward
        FROM facts f JOIN reports r ON r.report_id = f.report_id AND r.canonical
        WHERE f."table" = 't3' GROUP BY ALL""",
    # reports that are not canonical: the canonical one they duplicate, and whether every
    # cell agrees with it (blank = 0; a cell only one of them has disagrees)
    "duplicates": """
        WITH pairs AS (SELECT report_id, duplicate_of FROM reports WHERE duplicate_of IS NOT NULL),
        v AS (SELECT report_id, "table", item, "column", CASE WHEN blank THEN 0 ELSE value END AS value
              FROM facts WHERE report_id IN (SELECT report_id FROM pairs UNION SELECT duplicate_of FROM pairs)),
        dv AS (SELECT p.report_id, v."table", v.item, v."column", v.value FROM pairs p JOIN v USING (report_id)),
        cv AS (SELECT p.report_id, v."table", v.item, v."column", v.value
               FROM pairs p JOIN v ON v.report_id = p.duplicate_of),
        agree AS (
          SELECT coalesce(dv.report_id, cv.report_id) AS report_id,
                 bool_and(dv.report_id IS NOT NULL AND cv.report_id IS NOT NULL
                          AND dv.value IS NOT DISTINCT FROM cv.value) AS values_agree
          FROM dv FULL JOIN cv ON dv.report_id = cv.report_id AND dv."table" = cv."table"
                              AND dv.item = cv.item AND dv."column" = cv."column"
          GROUP BY 1)
        SELECT r.report_id, r.duplicate_of, r.body_id, r.year, r.agency, r.status, r.format, r.source, r.published,
               c.status AS canonical_status, c.source AS canonical_source, c.published AS canonical_published,
               coalesce(a.values_agree, false) AS values_agree
        FROM reports r JOIN reports c ON c.report_id = r.duplicate_of
        LEFT JOIN agree a ON a.report_id = r.report_id""",
    "report_metrics": """
        SELECT r.report_id, r.agency, r.body_id, r.region_name, r.region_code, r.level, r.body_type, r.year,
          r.template, r.status,
          -- another copy of this report (same body and year) prints different numbers
          r.report_id IN (SELECT duplicate_of FROM duplicates WHERE NOT values_agree) AS disputed,
          w.new_received AS applications_received,
          w.total_processed,
          (coalesce(w.granted, 0) + coalesce(w.partially_granted, 0)) / nullif(w.total_processed, 0) AS disclosure_rate,
          coalesce(w.denied, 0) / nullif(w.total_processed, 0) AS denial_rate,
          coalesce(w.not_held, 0) / nullif(w.total_processed, 0) AS not_held_rate,
          (w.new_received - coalesce(np.new_received, 0)) / nullif(w.new_received, 0) AS legal_person_share,
          ar.corrected / nullif(ar.upheld + ar.corrected + ar.other, 0) AS review_correction_rate,
          lt.corrected / nullif(lt.upheld + lt.corrected + lt.other, 0) AS litigation_correction_rate
        FROM reports r
        LEFT JOIN (SELECT report_id, sum(new_received) AS new_received, sum(granted) AS granted,
                     sum(partially_granted) AS partially_granted, sum(denied) AS denied, sum(not_held) AS not_held,
                     sum(total_processed) AS total_processed
                   FROM t3_wide WHERE applicant <> 'total' GROUP BY report_id) w ON w.report_id = r.report_id
        LEFT JOIN t3_wide np ON np.report_id = r.report_id AND np.applicant = 'natural_person'
        LEFT JOIN (SELECT report_id,
                     coalesce(max(value) FILTER (WHERE "column" = 'upheld'), 0) AS upheld,
                     coalesce(max(value) FILTER (WHERE "column" = 'corrected'), 0) AS corrected,
                     coalesce(max(value) FILTER (WHERE "column" = 'other'), 0) AS other
                   FROM facts WHERE "table" = 't4' AND item = 'admin_review' GROUP BY report_id) ar
               ON ar.report_id = r.report_id
        LEFT JOIN (SELECT report_id,
                     coalesce(sum(value) FILTER (WHERE "column" = 'upheld'), 0) AS upheld,
                     coalesce(sum(value) FILTER (WHERE "column" = 'corrected'), 0) AS corrected,
                     coalesce(sum(value) FILTER (WHERE "column" = 'other'), 0) AS other
                   FROM facts WHERE "table" = 't4' AND item LIKE 'litigation_%' GROUP BY report_id) lt
               ON lt.report_id = r.report_id
        WHERE r.canonical""",
    "failed_checks": """
        SELECT r.body_id, r.agency, r.region_name, r.region_code, r.level, c.* EXCLUDE (data_year, batch_id)
        FROM checks c JOIN reports r USING (report_id) WHERE c.passed = false AND r.canonical""",
    # every issuing body: the names it printed, its division, the years it has a canonical report for
    "bodies": """
        SELECT body_id, list_sort(list(DISTINCT agency)) AS names, any_value(region_name) AS region,
               any_value(region_code) AS region_code, any_value(level) AS level, any_value(body_type) AS kind,
               list_sort(list(DISTINCT year) FILTER (WHERE canonical)) AS years_reported,
               count(*) FILTER (WHERE canonical) AS reports, count(*) FILTER (WHERE NOT canonical) AS other_copies
        FROM reports WHERE body_id IS NOT NULL GROUP BY body_id""",
    # identity 5: 表三 carried_over of year Y = carried_forward of Y−1 (same body_id, per
    # column); 表二 in_force of Y = in_force of Y−1 + issued − repealed (2021 format).
    # Canonical reports only: never a duplicate, a yearless or a pre-2019 report
    "cross_year_checks": """
        WITH body AS (SELECT report_id, body_id, agency, region_name, region_code, level, year FROM reports
                      WHERE canonical AND year >= 2019),
        v AS (SELECT f.report_id, f."table", f.item, f."column", coalesce(f.value, 0) AS value FROM facts f
              WHERE (f."table" = 't3' AND f.item IN ('carried_over', 'carried_forward'))
                 OR (f."table" = 't2' AND f.item IN ('rules', 'normative_docs') AND f."column" IN ('issued', 'repealed', 'in_force')))
        SELECT cur.body_id, cur.agency, cur.region_name, cur.region_code, cur.level, cur.year,
               't3_carry_over' AS rule, 't3' AS "table",
               c."column" AS scope, c.value AS lhs, p.value AS rhs, c.value - p.value AS difference,
               c.value = p.value AS passed, cur.report_id, prev.report_id AS prev_report_id
        FROM body cur JOIN body prev ON prev.body_id = cur.body_id AND prev.year = cur.year - 1
        JOIN v c ON c.report_id = cur.report_id AND c."table" = 't3' AND c.item = 'carried_over'
        JOIN v p ON p.report_id = prev.report_id AND p."table" = 't3' AND p.item = 'carried_forward' AND p."column" = c."column"
        UNION ALL
        SELECT cur.body_id, cur.agency, cur.region_name, cur.region_code, cur.level, cur.year,
               't2_in_force' AS rule, 't2' AS "table",
               c.item AS scope, c.value AS lhs, p.value + i.value - r.value AS rhs,
               c.value - (p.value + i.value - r.value) AS difference,
               c.value = p.value + i.value - r.value AS passed, cur.report_id, prev.report_id AS prev_report_id
        FROM body cur JOIN body prev ON prev.body_id = cur.body_id AND prev.year = cur.year - 1
        JOIN v c ON c.report_id = cur.report_id AND c."table" = 't2' AND c."column" = 'in_force'
        JOIN v i ON i.report_id = cur.report_id AND i."table" = 't2' AND i.item = c.item AND i."column" = 'issued'
        JOIN v r ON r.report_id = cur.report_id AND r."table" = 't2' AND r.item = c.item AND r."column" = 'repealed'
        JOIN v p ON p.report_id = prev.report_id AND p."table" = 't2' AND p.item = c.item AND p."column" = 'in_force'""",
    # 条例 第四十九、五十条: departments publish by 31 January, governments' consolidated
    # reports by 31 March of the following year (a body of unknown kind: 31 March, so
    # that only certainly late reports are listed); canonical reports only
    "late_reports": """
        SELECT report_id, body_id, agency, region_name, region_code, level, body_type, year, published,
               make_date(year + 1, CASE WHEN body_type = 'department' THEN 1 ELSE 3 END, 31) AS deadline,
               date_diff('day', make_date(year + 1, CASE WHEN body_type = 'department' THEN 1 ELSE 3 END, 31),
                         published) AS days_late
        FROM reports
        WHERE canonical AND published IS NOT NULL AND year IS NOT NULL
          AND published > make_date(year + 1, CASE WHEN body_type = 'department' THEN 1 ELSE 3 END, 31)""",
    # documents (reports and failed ones alike) handled by an older parser:
    # `xxgk run --stale` re-extracts them
    "stale_documents": """
        SELECT d.doc_sha256, d.source, d.status, r.agency, r.year, d.parser_version,
               '{PARSER_VERSION}' AS current_version
        FROM documents d LEFT JOIN reports r ON r.doc_sha256 = d.doc_sha256
        WHERE d.parser_version <> '{PARSER_VERSION}'""",
    # every table/item/column code with its 中文 label as printed, template versions, unit and
    # meaning (load/labels.py; docs/data-dictionary.md is the same rows)
    "dictionary": "{DICTIONARY}",
}


def _empty_select(table: str) -> str:
    cols = ", ".join(f'CAST(NULL AS {_DUCK[f.type]}) AS "{f.name}"' for f in SCHEMAS[table])
    if table == "reports":  # its hive partition column
        cols += ", CAST(NULL AS INTEGER) AS data_year"
    return f"SELECT {cols} WHERE false"


def sql_string(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def raw_sql(root: Path, table: str, base: str = "", files: list[Path] | None = None) -> str:
    """Every stored row of a table, current or not (the base views filter). `base` prefixes
    the table's relative glob: empty in xxgk.duckdb (nothing absolute in a warehouse), the
    glob-escaped absolute directory in a connection built at open. `files`: exactly these
    files instead of the glob (a snapshot, see `connect_readonly`)."""
    if not (files if files is not None else any(Path(root).glob(table_glob(table)))):
        return _empty_select(table)
    pattern = sql_string(base + table_glob(table)) if files is None else \
        "[" + ", ".join(sql_string(glob_escape(str(f))) for f in files) + "]"
    if table == "documents":
        # files written before a column was added lack it: union with the empty table of the
        # current schema, so every column exists (null in the older rows) even before any
        # file has it
        return f"{_empty_select(table)} UNION ALL BY NAME SELECT * FROM read_parquet({pattern}, union_by_name = true)"
    if table == "runs":  # runs recorded before the OCR columns read them as null
        return f"{_empty_select(table)} UNION ALL BY NAME SELECT * FROM read_parquet({pattern}, union_by_name = true)"
    sql = (f"SELECT * FROM read_parquet({pattern}, hive_partitioning = true, union_by_name = true, "
           "hive_types = {'data_year': INTEGER})")
    if table == "reports":
        # files written before a column was added (body_id, cells_read) read it as null
        sql = f"{sql} UNION ALL BY NAME {_empty_select(table)}"
    return sql


CANONICAL_ORDER = """status = 'ok' DESC, published DESC NULLS LAST, cells_read DESC NULLS LAST,
                   seen_at DESC NULLS LAST, report_id"""
"""Which of several reports of one body and year is canonical (the first in this order):
`ok` over `partial`; then the newer publication (a corrected or re-uploaded report
replaces the earlier one); then more cells read (the same report as an HTML page and
as its PDF attachment: the better read copy); then the later fetched (else ingested);
then the lowest report_id, so the choice never depends on load order."""

CURRENT = {
    # Every view reads the documents files (the commits) before the data files: DuckDB lists
    # a view's files as it binds it, in FROM order, and a load renames its data files before
    # its commit, so a query that sees a commit also sees its files (listed the other way
    # round, a query during a load or compact could see the commit but not its facts).
    # the committed version of each document: its row with the highest batch id
    "documents": "SELECT * FROM _raw_documents QUALIFY row_number() OVER (PARTITION BY source ORDER BY batch_id DESC) = 1",
    # (doc_sha256, batch) of current reports: the newest committed row per source, then the
    # newest batch per content (an aggregate, cheaper than the window of `documents`)
    "_current": """SELECT doc_sha256, max(batch_id) AS batch_id FROM (
        SELECT arg_max(doc_sha256, batch_id) AS doc_sha256, max(batch_id) AS batch_id
        FROM _raw_documents GROUP BY source) GROUP BY 1""",
    # a report with no year is stored under data_year=0: the views show a null year, never 0
    # report_id is the first 16 hex digits of the document's SHA-256: no need to read reports
    # item_label, column_label: as printed in the national form of the report's template
    # version (load/labels.py; the version matters only where the versions print differently)
    "facts": """SELECT f.* REPLACE (nullif(f.data_year, 0) AS data_year), nullif(f.data_year, 0) AS year,
          l.item_label, l.column_label
        FROM (SELECT DISTINCT left(doc_sha256, 16) AS report_id, batch_id FROM _current) r
        JOIN _raw_facts f ON f.report_id = r.report_id AND f.batch_id = r.batch_id
        LEFT JOIN (SELECT DISTINCT report_id, batch_id, template FROM _raw_reports) t
          ON t.report_id = f.report_id AND t.batch_id = f.batch_id
        LEFT JOIN _fact_labels l ON l."table" = f."table" AND l.item = f.item AND l."column" = f."column"
          AND (l.version IS NULL OR l.version = t.template)""",
    "checks": """SELECT c.* REPLACE (nullif(c.data_year, 0) AS data_year), nullif(c.data_year, 0) AS year
        FROM (SELECT DISTINCT left(doc_sha256, 16) AS report_id, batch_id FROM _current) r
        JOIN _raw_checks c ON c.report_id = r.report_id AND c.batch_id = r.batch_id""",
    # one canonical report per (body_id, year) among reports that know both (CANONICAL_ORDER);
    # the others name it in duplicate_of
    "reports": """WITH cur AS (
          SELECT r.* REPLACE (nullif(r.data_year, 0) AS data_year) FROM _current d
          JOIN _raw_reports r ON r.doc_sha256 = d.doc_sha256 AND r.batch_id = d.batch_id),
        seen AS (SELECT doc_sha256, max(coalesce(fetched_at, ingested_at)) AS seen_at FROM documents GROUP BY 1),
        ranked AS (
          SELECT cur.*, CASE WHEN cur.body_id IS NOT NULL AND cur.year IS NOT NULL THEN
                   first_value(cur.report_id) OVER (PARTITION BY cur.body_id, cur.year ORDER BY {order}) END AS first_id
          FROM cur LEFT JOIN seen USING (doc_sha256))
        SELECT * EXCLUDE (first_id), coalesce(first_id = report_id, false) AS canonical,
               CASE WHEN first_id <> report_id THEN first_id END AS duplicate_of
        FROM ranked""".replace("{order}", CANONICAL_ORDER),
}


def refresh_views(root: Path) -> Path:
    """(Re)create every view in the warehouse's DuckDB file. Returns its path.

    Its views read the tables by paths relative to the warehouse directory, so a copied or
    moved warehouse reads itself (open it from inside the directory, or `SET
    file_search_path`); xxgk's own connections build their views at open
    (`connect_readonly`). The file is built under a temporary name and renamed over the old
    one: analysts' open connections neither block a run nor see a half-built file."""
    def build(tmp: Path) -> None:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(f"SET file_search_path = {sql_string(str(Path(root).resolve()))}")
            _create_views(con, root, "")
            con.execute("CHECKPOINT")
        finally:
            con.close()
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)

    return atomic_write(db_path(root), build)


def _create_views(con: duckdb.DuckDBPyConnection, root: Path, base: str,
                  snapshot: dict[str, list[Path]] | None = None) -> None:
    """Every view on `con`, reading the tables at `base` (see `raw_sql`), or exactly the
    files of `snapshot` (table → files)."""
    for table in BASE_VIEWS:
        files = snapshot.get(table) if snapshot is not None else None
        con.execute(f"CREATE OR REPLACE VIEW _raw_{table} AS {raw_sql(root, table, base, files)}")
    con.execute(f"CREATE OR REPLACE VIEW _fact_labels AS {fact_labels_sql()}")
    for name, sql in CURRENT.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    con.execute(f"CREATE OR REPLACE VIEW runs AS {raw_sql(root, 'runs', base)} ORDER BY started_at")
    dictionary = dictionary_sql()
    for name, sql in DERIVED_VIEWS.items():
        sql = sql.replace("{PARSER_VERSION}", PARSER_VERSION).replace("{DICTIONARY}", dictionary)
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")


READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")
_EXPLAIN = re.compile(r"\s*EXPLAIN\s+(ANALY[SZ]E\b|\([^()]*\))?", re.IGNORECASE)
_COMMENTS = re.compile(r"(--[^\n]*(\n|$)|/\*.*?\*/|\s)+", re.DOTALL)


def read_only_sql(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """`sql` if it is one read-only statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE,
    EXPLAIN of one of those); else `NotReadOnly`. A read-only database still lets COPY … TO,
    EXPORT or ATTACH write files elsewhere, and EXPLAIN ANALYZE runs the statement it
    explains, so the query path accepts nothing else (the sandbox of `connect_readonly`
    is the second wall)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise NotReadOnly(f"not valid SQL: {exc}") from exc
    if len(statements) != 1:
        raise NotReadOnly(f"expected one statement, got {len(statements)}")
    kind = statements[0].type.name
    if kind == "EXPLAIN":
        text = statements[0].query
        lead = _COMMENTS.match(text)
        m = _EXPLAIN.match(text, lead.end() if lead else 0)
        if not m:
            raise NotReadOnly("an EXPLAIN this check cannot read is refused: write `EXPLAIN [ANALYZE] SELECT …`")
        inner = con.extract_statements(text[m.end():])
        if len(inner) != 1 or inner[0].type.name != "SELECT":
            raise NotReadOnly("EXPLAIN of a statement other than a query is refused: EXPLAIN ANALYZE runs it")
        return sql
    if kind not in READ_ONLY_STATEMENTS:
        raise NotReadOnly(f"{kind} statements are not allowed here: the query path is read-only "
                          "(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN; use -o to write a result)")
    return sql


def staging_path(path: Path) -> Path:
    """Where an export to `path` is written before it replaces `path` in one rename."""
    return path.with_name(f".{path.name}.partial")


def snapshot_files(root: Path) -> dict[str, list[Path]]:
    """Every committed table file now, the commits (`documents`) listed first: a load renames
    its data files before its commit, so every commit listed has all its files listed."""
    docs = table_files(root, "documents")
    return {"documents": docs, **{t: table_files(root, t) for t in BASE_VIEWS if t != "documents"}}


def connect_readonly(root: Path, writable: tuple[Path, ...] = (), snapshot: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse's views, built at open (in a private
    temporary file) from where the warehouse is now (a copied or moved warehouse reads
    itself; a notebook holding xxgk.duckdb read-write blocks nothing) and confined by DuckDB's own settings: files
    are read only inside the warehouse, written only at `writable` (an export's output),
    no extension is installed or loaded, and no statement can change that.

    `snapshot`: the views read the files committed at open, one listing for all of them,
    so every view of every query agrees on one committed state (for a command's one query:
    with live globs each view lists the files as a query binds it, and a query joining two
    views, `t3_wide` say, during a load replacing a document can see the old report's facts
    beside the new report). Not for a connection kept open longer than the grace period of
    deleted files (`DELETE_GRACE`): its files may then be gone."""
    root = Path(root).resolve()
    path = db_path(root)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {root} (no {path.name}); run `xxgk run` or `xxgk demo` first")
    views = Path(tempfile.gettempdir()) / f"xxgk-views-{uuid.uuid4().hex}.duckdb"
    try:
        build = duckdb.connect(str(views))
        try:
            _create_views(build, root, glob_escape(str(root)) + "/", snapshot_files(root) if snapshot else None)
            build.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise DamagedWarehouse(f"cannot read the warehouse at {root}: {str(exc).splitlines()[0]} — "
                                   f"run `xxgk verify -w {root}` to list damaged files and `xxgk repair -w {root}` "
                                   "to set them aside and reload their documents") from exc
        finally:
            build.close()
        con = duckdb.connect(str(views), read_only=True)
    finally:
        views.unlink(missing_ok=True)
        views.with_name(views.name + ".wal").unlink(missing_ok=True)
    try:
        dirs = ", ".join(sql_string(d + "/") for d in (str(root), glob_escape(str(root))))
        con.execute(f"SET allowed_directories = [{dirs}]")
        if writable:
            files = ", ".join(sql_string(str(f.resolve())) for p in writable
                              for f in (Path(p), staging_path(Path(p))))
            con.execute(f"SET allowed_paths = [{files}]")
        for setting in ("enable_external_access", "autoinstall_known_extensions", "autoload_known_extensions"):
            con.execute(f"SET {setting} = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con
