"""Files that open right in Excel: CSV with a UTF-8 BOM (Excel on Chinese Windows reads a
BOM-less CSV as GBK: mojibake), and xlsx sheets with column widths, a frozen header, an
autofilter, integers as integers, rates as percentages and dates as dates; optionally
Chinese column headers (`HEADERS_ZH`)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"

HEADERS_ZH = {
    "report_id": "报告ID", "body_id": "机关ID", "agency": "机关名称", "region_name": "行政区划",
    "region_code": "区划代码", "level": "层级", "body_type": "机关类型", "year": "年度", "data_year": "数据年度",
    "template": "模板版本", "status": "状态", "reason": "原因", "format": "格式", "source": "来源", "published": "发布日期",
    "applicant": "申请人", "applications_received": "本年新收申请", "new_received": "本年新收",
    "carried_over": "上年结转", "granted": "予以公开", "partially_granted": "部分公开", "denied": "不予公开",
    "unable": "无法提供", "not_held": "本机关不掌握", "not_processed": "不予处理", "other": "其他处理",
    "total_processed": "办理结果总计", "carried_forward": "结转下年度继续办理",
    "disclosure_rate": "公开率（予以公开+部分公开）", "denial_rate": "不予公开率", "not_held_rate": "不掌握率",
    "legal_person_share": "法人或其他组织申请占比", "review_correction_rate": "行政复议纠错率",
    "litigation_correction_rate": "行政诉讼纠错率", "table": "表", "item": "项目", "column": "栏目",
    "item_label": "项目名称", "column_label": "栏目名称", "value": "数值", "unit": "单位", "raw": "原文",
    "flags": "标记", "rule": "规则", "number": "序号", "scope": "范围", "lhs": "左边", "rhs": "右边",
    "difference": "差额", "passed": "是否通过", "deadline": "截止日期", "days_late": "逾期天数",
    "prev_report_id": "上年报告ID", "code": "代码", "label": "中文名称", "kind": "种类", "versions": "模板版本",
    "meaning": "含义", "duplicate_of": "重复于", "canonical": "是否采用",
    # bodies
    "names": "使用过的名称", "region": "行政区划", "years_reported": "有报告的年度", "reports": "报告数",
    "other_copies": "其他副本数",
    # documents, reports, facts, checks
    "detail": "说明", "batch_id": "批次", "doc_sha256": "文件SHA-256", "size": "字节数",
    "parser_version": "解析器版本", "ingested_at": "入库时间", "fetched_at": "抓取时间", "origin": "抓取来源",
    "raw_path": "原始文件路径", "link_text": "链接文字", "link_year": "链接年度", "blank": "空白",
    "derived": "推算", "page": "页", "source_table": "原表序号", "source_row": "原行号", "source_col": "原列号",
    "confidence": "识别置信度", "pages": "页数", "n_facts": "数据项数", "n_checks_failed": "未通过校验数",
    "extracted_at": "抽取时间", "cells_read": "已读单元格数",
    # duplicates, report_metrics, stale_documents
    "canonical_status": "采用报告状态", "canonical_source": "采用报告来源", "canonical_published": "采用报告发布日期",
    "values_agree": "数值一致", "disputed": "副本数值不一致", "current_version": "当前解析器版本",
    # runs
    "run_id": "运行ID", "flow": "流程", "started_at": "开始时间", "finished_at": "结束时间",
    "outcome": "结束方式", "error": "未完成原因",
    "fetched_new": "新抓取", "fetched_changed": "已变更", "fetched_unchanged": "未变更", "fetch_skipped": "跳过抓取",
    "fetch_failed": "抓取失败", "documents": "文件数", "unchanged": "未变文件", "ok": "完整", "partial": "部分可用",
    "failed": "失败", "unsupported": "不支持", "quarantined": "隔离", "facts_loaded": "载入数据项",
    "paths_skipped": "跳过路径数", "skipped": "跳过的路径及原因", "ocr_pages": "OCR页数", "ocr_seconds": "OCR耗时（CPU秒）",
    "ocr_skipped": "因OCR未开启未读",
}
"""Chinese headers for `--labels zh`; a column not listed keeps its code (a test checks
every column of every public view has one)."""

STATUS_ZH = {"ok": "完整", "partial": "部分可用", "failed": "失败", "unsupported": "不支持"}
KIND_ZH = {"government": "人民政府", "department": "部门"}
TABLE_ZH = {"t2": "表二", "t3": "表三", "t4": "表四"}


def value_labels(column: str) -> dict[str, str] | None:
    """The Chinese words `--labels zh` prints for the codes a column holds, or None (the
    column's values print as they are)."""
    if column in ("status", "canonical_status"):
        return STATUS_ZH
    if column in ("body_type", "kind"):
        return KIND_ZH
    if column == "table":
        return TABLE_ZH
    if column == "applicant":
        from transform.templates import load_templates

        return {code: col.labels[0] for code, col in load_templates().t3.columns.items()} | {"total": "总计"}
    return None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a name, column names (codes) and rows."""

    name: str
    columns: list[str]
    rows: list[tuple]


def is_rate(column: str) -> bool:
    return column.endswith(("_rate", "_share"))


def header(column: str, labels: str | None) -> str:
    return HEADERS_ZH.get(column, column) if labels == "zh" else column


def cell_value(value):
    """A value as Excel should hold it: whole floats as int, NaN as empty, time zones
    dropped (Excel has none), lists as text."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, (list, tuple)):
        return ", ".join("" if v is None else str(v) for v in value)
    return value


def _number_format(column: str, value) -> str | None:
    if is_rate(column):
        return "0.0%"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "0"
    if isinstance(value, float):
        return "0.00"
    if isinstance(value, dt.datetime):
        return "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, dt.date):
        return "yyyy-mm-dd"
    return None


def _width(value) -> float:
    """Display width of a value: CJK characters count double."""
    text = "" if value is None else (f"{value:.1%}" if isinstance(value, float) and value < 10 else str(value))
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_sheet(ws, sheet: Sheet, labels: str | None = None, max_width: int = 60) -> None:
    """Fill an openpyxl worksheet: header, typed cells, widths, frozen header, autofilter."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    heads = [header(c, labels) for c in sheet.columns]
    words = [value_labels(c) if labels == "zh" else None for c in sheet.columns]
    ws.append(heads)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [_width(h) for h in heads]
    for row in sheet.rows:
        values = [cell_value(_zh_value(v, w) if labels == "zh" else v) for v, w in zip(row, words)]
        ws.append(values)
        r = ws.max_row
        for i, v in enumerate(values):
            fmt = _number_format(sheet.columns[i], v)
            if fmt and v is not None:
                ws.cell(row=r, column=i + 1).number_format = fmt
            widths[i] = max(widths[i], _width(v))
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max_width, w + 2)
    ws.freeze_panes = "A2"
    if sheet.columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{max(1, ws.max_row)}"


def write_xlsx(path: Path, sheets: list[Sheet], labels: str | None = None) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        write_sheet(wb.create_sheet(sheet.name[:31]), sheet, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def prepend_bom(path: Path) -> None:
    """Put a UTF-8 BOM in front of a file written without one (streamed: any size)."""
    import shutil

    tmp = path.with_name(path.name + ".bom")
    with path.open("rb") as src, tmp.open("wb") as dst:
        dst.write(BOM.encode("utf-8"))
        shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(path)


def csv_sql(sql: str, described: list[tuple[str, str]], labels: str | None) -> str:
    """`sql` as CSV should print it: a whole number in a DOUBLE column (every count is
    one: facts hold counts and amounts in one column) as `12`, not `12.0`; other values as
    DuckDB prints them; headers in Chinese when `labels` is "zh". `described`: the result's
    (name, DuckDB type) pairs."""
    cols = []
    for name, kind in described:
        col = ident(name)
        words = value_labels(name) if labels == "zh" and kind == "VARCHAR" else None
        if words:
            col = "CASE " + col + " " + " ".join(f"WHEN {sql_text(k)} THEN {sql_text(v)}" for k, v in words.items()) + f" ELSE {col} END"
        if labels == "zh" and kind == "BOOLEAN":
            col = f"CASE WHEN {col} THEN '是' WHEN NOT {col} THEN '否' END"
        if kind in ("DOUBLE", "FLOAT"):
            col = (f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 1e15 "
                   f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END")
        cols.append(f"{col} AS {ident(header(name, labels) if labels == 'zh' else name)}")
    return f"SELECT {', '.join(cols)} FROM ({sql})"


def csv_value(value):
    """One value as `csv_sql` prints it (for rows written by Python's csv module)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _zh_value(value, words: dict[str, str] | None):
    """A value as `--labels zh` prints it: yes/no as 是/否, codes in Chinese (`value_labels`)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    return words.get(value, value) if words and isinstance(value, str) else value


def sql_text(value: str) -> str:
    """`value` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def write_printed(path: Path, report) -> None:
    """A `load.show.PrintedReport` as three sheets (表二, 表三, 表四) laid out as printed:
    a title row, the header, the rows; a cell a failed identity names is filled red, an
    unread one holds its flags as text, a cell the form does not have holds —."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    red = PatternFill("solid", fgColor="FFC7CE")
    wb = Workbook()
    wb.remove(wb.active)
    for table in report.tables:
        ws = wb.create_sheet({"t2": "表二", "t3": "表三", "t4": "表四"}[table.code])
        ws.append([f"{report.agency or ''} {report.year or ''}年 {table.title}"])
        ws["A1"].font = Font(bold=True)
        ws.append(list(table.header))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([row.label] + [printed_value(c) for c in row.cells])
            if row.heading:
                ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
            for i, c in enumerate(row.cells):
                if c.failed:
                    ws.cell(row=ws.max_row, column=i + 2).fill = red
        ws.column_dimensions["A"].width = min(60, max(_width(r.label) for r in table.rows) + 2)
        for i, h in enumerate(table.header[1:]):
            ws.column_dimensions[get_column_letter(i + 2)].width = max(10, _width(h) + 2)
        ws.freeze_panes = "B3"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def printed_value(cell):
    """What a printed cell shows: its number (whole as int), blank as empty, — where the
    form has no cell, the flags of a cell that could not be read (never a guess)."""
    if cell.absent:
        return "—"
    if cell.value is None:
        return None if cell.blank else ("?" + ",".join(cell.flags) if cell.flags else None)
    return cell_value(cell.value)
