"""Plain-text reports: the text layer of a PDF saved as text, with table rows as
tab-separated cells (a leading tab marks an empty first cell), as in the seed."""

from __future__ import annotations

from pathlib import Path

from .detect import decode_text, looks_binary
from .errors import DocumentUnreadable
from .models import ExtractSettings, RawCell, RawDocument, RawRow, RawTable


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    data = path.read_bytes() if data is None else data
    text = decode_text(data)
    if looks_binary(text):
        raise DocumentUnreadable(path, "binary data, not text")
    return RawDocument(path=path, format="text", text=text, tables=[lines_to_table(text)])



def lines_to_table(text: str) -> RawTable:
    """Every non-empty line is a row; tab-separated lines give one cell per field.

    Lines are kept in order, narrative included, so the transform sees section headings
    and labels broken over two lines. A form feed counts as a page break.
    """
    rows: list[RawRow] = []
    page = 1
    for lineno, line in enumerate(text.splitlines(), start=1):
        page += line.count("\f")
        line = line.replace("\f", "").rstrip("\r\n")
        if not line.strip():
            continue
        cells = [RawCell(field.strip()) for field in line.split("\t")]
        rows.append(RawRow(cells=cells, page=page, index=lineno))
    return RawTable(rows=rows, index=0, page=None, locator="lines")
