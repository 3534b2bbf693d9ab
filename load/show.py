"""One report's 表二/表三/表四 laid out as the national form prints them (Chinese labels,
applicant columns), each cell with its value, whether it was read, and whether a failed
identity points at it: what `xxgk show` prints and writes to xlsx. The layout is pure
functions over the facts; the SQL that finds a report and reads its rows is here too."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from transform.templates import Templates, load_templates

from .labels import Dictionary, load_dictionary


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None
    blank: bool = False
    flags: tuple[str, ...] = ()
    failed: bool = False
    """A failed identity of this report names this cell (a row or column total)."""
    absent: bool = False
    """The form has no such cell (an item without this column): printed as —."""


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: tuple[Cell, ...] = ()
    heading: bool = False


@dataclass(frozen=True, slots=True)
class PrintedTable:
    code: str
    title: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class FailedCheck:
    rule: str
    scope: str
    lhs: float | None
    rhs: float | None
    difference: float | None


@dataclass(frozen=True, slots=True)
class PrintedReport:
    report_id: str
    agency: str | None
    year: int | None
    region_name: str | None
    template: str | None
    status: str
    tables: tuple[PrintedTable, ...]
    failed: tuple[FailedCheck, ...] = field(default_factory=tuple)


FactKey = tuple[str, str, str]  # (table, item, column)


def failed_cells(failed: list[FailedCheck]) -> set[FactKey]:
    """The cells a failed identity points at: a row total (row_sum rules, scope
    `table.item`) or 表三's total_processed of a column (column_sum rules, `t3.column`)."""
    out = set()
    for f in failed:
        table, _, rest = f.scope.partition(".")
        if not rest:
            continue
        if f.rule in ("t3_row_total", "t4_row_total"):
            out.add((table, rest, "total"))
        elif f.rule in ("t3_balance", "t3_results_total"):
            out.add((table, "total_processed", rest))
    return out


def _cell(facts: dict[FactKey, Cell], key: FactKey, marks: set[FactKey]) -> Cell:
    c = facts.get(key)
    if c is None:
        return Cell(None, flags=("not_found",), failed=key in marks)
    return Cell(c.value, c.blank, c.flags, key in marks)


def t2_table(facts: dict[FactKey, Cell], template: str | None, t: Templates, marks: set[FactKey]) -> PrintedTable:
    spec = t.t2.get(template or "") or t.t2["2021"]
    items = [it for it in spec.items if any(k[0] == "t2" and k[1] == it.code for k in facts)] or list(spec.items)
    cols = [c for c in spec.columns if any(c in it.columns for it in items)]
    rows = [Row(it.labels[0], tuple(_cell(facts, ("t2", it.code, c), marks) if c in it.columns else Cell(None, absent=True)
                                     for c in cols)) for it in items]
    return PrintedTable("t2", "二、主动公开政府信息情况", ("",) + tuple(spec.columns[c].labels[0] for c in cols), tuple(rows))


def _unnumbered(label: str) -> str:
    """A template label without the number some carry to be told apart (`3.其他` → `其他`)."""
    return re.sub(r"^\d+[.、．]\s*", "", label)


def t3_table(facts: dict[FactKey, Cell], template: str | None, t: Templates, d: Dictionary,
             marks: set[FactKey]) -> PrintedTable:
    """表三 with its numbered rows and the headings of the result groups; the （六） rows
    are the ones the report printed (2019: one row, 2021: three; mixed layouts exist)."""
    spec, g = t.t3, d.t3_groups
    printed = {k[1] for k in facts if k[0] == "t3"}
    version = template or "2021"
    others = {c for c in printed if c.split(".")[0] == "other"}
    items = [it for it in spec.items if it.code in printed
             or (version in it.versions and not (others and it.code.split(".")[0] == "other"))]
    cols = spec.column_order
    rows: list[Row] = []
    group, n = None, 0
    for it in items:
        prefix = it.code.split(".")[0] if "." in it.code else None
        if it.code == "granted":
            rows.append(Row(g["results"], heading=True))
        if prefix and prefix != group:
            rows.append(Row(g[prefix], heading=True))
            n = 0
        group = prefix
        n += 1
        label = f"{n}.{_unnumbered(it.labels[0])}" if prefix else g.get(it.code, it.labels[0])
        rows.append(Row(label, tuple(_cell(facts, ("t3", it.code, c), marks) for c in cols)))
    header = ("",) + tuple(spec.columns[c].labels[0] for c in cols)
    return PrintedTable("t3", "三、收到和处理政府信息公开申请情况", header, tuple(rows))


def t4_table(facts: dict[FactKey, Cell], t: Templates, marks: set[FactKey]) -> PrintedTable:
    spec = t.t4
    rows = tuple(Row(it.labels[0], tuple(_cell(facts, ("t4", it.code, c), marks) for c in spec.column_order))
                 for it in spec.items)
    return PrintedTable("t4", "四、政府信息公开行政复议、行政诉讼情况",
                        ("",) + tuple(spec.columns[c].labels[0] for c in spec.column_order), rows)


def lay_out(facts: dict[FactKey, Cell], template: str | None, failed: list[FailedCheck],
            templates: Templates | None = None, dictionary: Dictionary | None = None) -> tuple[PrintedTable, ...]:
    t = templates or load_templates()
    d = dictionary or load_dictionary(templates=t)
    marks = failed_cells(failed)
    return (t2_table(facts, template, t, marks), t3_table(facts, template, t, d, marks), t4_table(facts, t, marks))


def find_reports(con: duckdb.DuckDBPyConnection, report_id: str | None = None, body: str | None = None,
                 year: int | None = None) -> list[tuple[str, str | None, int | None]]:
    """(report_id, agency, year) of the reports a `show` names: by id (its first digits
    suffice), or canonical reports whose agency or body_id contains `body`, of `year`."""
    if report_id:
        return con.execute("SELECT report_id, agency, year FROM reports WHERE starts_with(report_id, ?) "
                           "ORDER BY report_id", [report_id]).fetchall()
    sql = ("SELECT report_id, agency, year FROM reports WHERE canonical AND (agency LIKE ? OR body_id LIKE ?)"
           + (" AND year = ?" if year is not None else "") + " ORDER BY agency, year")
    like = f"%{body or ''}%"
    return con.execute(sql, [like, like] + ([year] if year is not None else [])).fetchall()


def printed_report(con: duckdb.DuckDBPyConnection, report_id: str) -> PrintedReport:
    rid, agency, year, region, template, status = con.execute(
        "SELECT report_id, agency, year, region_name, template, status FROM reports WHERE report_id = ?",
        [report_id]).fetchone()
    facts = {(t, i, c): Cell(v, bool(b), tuple(fl or ())) for t, i, c, v, b, fl in con.execute(
        'SELECT "table", item, "column", value, blank, flags FROM facts WHERE report_id = ?', [rid]).fetchall()}
    failed = [FailedCheck(*r) for r in con.execute(
        "SELECT rule, scope, lhs, rhs, difference FROM checks WHERE report_id = ? AND passed = false "
        "ORDER BY number, scope", [rid]).fetchall()]
    return PrintedReport(rid, agency, year, region, template, status, lay_out(facts, template, failed), tuple(failed))
