"""Word (.docx) reports read with python-docx: body paragraphs and tables in document
order; merged cells (w:gridSpan, w:vMerge, w:gridBefore) expanded to grid columns."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import docx
from docx.oxml.ns import qn

from .errors import DocumentUnreadable, LimitExceeded
from .models import ExtractSettings, RawCell, RawDocument, RawRow, RawTable


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    settings = ExtractSettings.resolve(settings)
    data = path.read_bytes() if data is None else data
    _check_zip(path, data, settings)
    try:
        document = docx.Document(BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on broken packages
        raise DocumentUnreadable(path, f"not a readable .docx ({type(exc).__name__}: {exc})") from exc
    body = document.element.body
    lines: list[str] = []
    tables: list[RawTable] = []
    for child in _children(body):
        if child.tag == qn("w:p"):
            lines.append(_text_of(child))
        elif child.tag == qn("w:tbl"):
            table = tbl_to_raw(child, len(tables))
            tables.append(table)
            lines.extend("\t".join(c.text for c in row.cells) for row in table.rows)
    props = document.core_properties
    hints = {"title": props.title or ""} if props.title else {}
    return RawDocument(path=path, format="docx", text="\n".join(lines), tables=tables, hints=hints)


def extract_tables(path: Path, settings: ExtractSettings | None = None) -> list[RawTable]:
    return read_document(path, settings).tables


def _check_zip(path: Path, data: bytes, settings: ExtractSettings) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            total = sum(info.file_size for info in z.infolist())
            if "word/document.xml" not in z.namelist():
                raise DocumentUnreadable(path, "zip file without word/document.xml (not a Word document)")
    except zipfile.BadZipFile as exc:
        raise DocumentUnreadable(path, f"not a readable .docx (bad zip: {exc})") from exc
    if total > settings.max_unzipped_bytes:
        raise LimitExceeded(path, f"unzipped size {total} bytes exceeds max_unzipped_bytes={settings.max_unzipped_bytes}")


def _text_of(el) -> str:
    """Concatenate w:t runs; paragraphs inside a cell join without a gap."""
    parts = []
    for p in el.iter(qn("w:p")):
        parts.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
    if not parts:  # el is itself a run container
        parts.append("".join(t.text or "" for t in el.iter(qn("w:t"))))
    return " ".join(s.strip() for s in parts if s.strip())


_WRAPPERS = {qn("w:sdt"), qn("w:customXml"), qn("w:ins"), qn("w:sdtContent")}
"""Elements that wrap rows, cells or body blocks without being one: content controls,
custom XML, tracked insertions. Their content counts as if it stood in their place."""


def _children(el):
    """`el`'s children, with wrappers replaced by what they wrap (a row inside a content
    control is still a row: skipping it would shift every cell after it)."""
    for child in el.iterchildren():
        if child.tag in _WRAPPERS:
            yield from _children(child)
        elif child.tag not in (qn("w:sdtPr"), qn("w:sdtEndPr"), qn("w:customXmlPr")):
            yield child


def _int_attr(el, tag: str, default: int = 1) -> int:
    if el is None:
        return default
    found = el.find(tag)
    if found is None:
        return default
    try:
        return max(1, int(found.get(qn("w:val"))))
    except (TypeError, ValueError):
        return default


def tbl_to_raw(tbl, index: int) -> RawTable:
    rows: list[RawRow] = []
    for r, tr in enumerate(c for c in _children(tbl) if c.tag == qn("w:tr")):
        trpr = tr.find(qn("w:trPr"))
        col = _int_attr(trpr, qn("w:gridBefore"), 0) if trpr is not None else 0
        cells: list[RawCell] = []
        for tc in (c for c in _children(tr) if c.tag == qn("w:tc")):
            tcpr = tc.find(qn("w:tcPr"))
            span = _int_attr(tcpr, qn("w:gridSpan"), 1)
            vmerge = tcpr.find(qn("w:vMerge")) if tcpr is not None else None
            continued = vmerge is not None and vmerge.get(qn("w:val"), "continue") == "continue"
            if not continued:
                cells.append(RawCell(_text_of(tc), float(col), float(col + span)))
            col += span
        rows.append(RawRow(cells=cells, index=r))
    return RawTable(rows=rows, index=index, locator=f"table[{index}]")
