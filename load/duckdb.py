"""The DuckDB file: views over the Parquet tables, never data of its own."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import pyarrow as pa

from transform.records import SCHEMAS

from .layout import db_path, table_glob

_DUCK = {
    pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN", pa.date32(): "DATE", pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.list_(pa.string()): "VARCHAR[]",
}

BASE_VIEWS = ("documents", "reports", "facts", "checks")

DERIVED_VIEWS: dict[str, str] = {
    # 表三 wide: one row per report and applicant column, one column per item; the 2021
    # （六） rows are also summed into `other` so both versions compare.
    "t3_wide": """
        SELECT report_id, year, "column" AS applicant,
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
        FROM facts WHERE "table" = 't3' GROUP BY ALL""",
    "report_metrics": """
        SELECT r.report_id, r.agency, r.year, r.template, r.status,
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
               ON lt.report_id = r.report_id""",
    "failed_checks": """
        SELECT r.agency, c.* EXCLUDE (data_year)
        FROM checks c JOIN reports r USING (report_id) WHERE c.passed = false""",
}


def _empty_select(table: str) -> str:
    cols = ", ".join(f'CAST(NULL AS {_DUCK[f.type]}) AS "{f.name}"' for f in SCHEMAS[table])
    if table in ("facts", "checks"):
        cols += ', CAST(NULL AS INTEGER) AS "year"'

    return f"SELECT {cols} WHERE false"


def view_sql(root: Path, table: str) -> str:
    pattern = table_glob(root, table)
    if not glob.glob(pattern):
        return _empty_select(table)
    hive = "true" if table != "documents" else "false"
    extra = ", data_year AS year" if table in ("facts", "checks") else ""
    return (f"SELECT *{extra} FROM read_parquet('{pattern}', hive_partitioning = {hive}, union_by_name = true"
            + (", hive_types = {'data_year': INTEGER}" if hive == "true" else "") + ")")


def refresh_views(root: Path) -> Path:
    """(Re)create every view in the warehouse's DuckDB file. Returns its path."""
    path = db_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for table in BASE_VIEWS:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS {view_sql(root, table)}")
        for name, sql in DERIVED_VIEWS.items():
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    finally:
        con.close()
    return path


def connect_readonly(root: Path) -> duckdb.DuckDBPyConnection:
    path = db_path(root)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {root} (no {path.name}); run `xxgk run` or `xxgk demo` first")
    return duckdb.connect(str(path), read_only=True)
