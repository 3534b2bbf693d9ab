"""Extract stage: documents → `RawDocument` (text + raw cell grids). Knows nothing of
templates, records or Parquet.

    from extract import read_document
    doc = read_document(Path("report.pdf"))
"""

from __future__ import annotations

from pathlib import Path

from common.text import fold_radicals, has_radicals

from . import docx, html, image, legacy, pdf, text
from .detect import sniff_format
from .errors import DocumentUnreadable, ExtractError, LimitExceeded, NoTextLayer, UnsupportedDocument
from .models import PARSER_VERSION, ExtractSettings, RawCell, RawDocument, RawRow, RawTable

READERS = {
    "pdf": pdf.read_document,
    "html": html.read_document,
    "docx": docx.read_document,
    "text": text.read_document,
    "doc": legacy.read_document,
    "wps": legacy.read_document,
    "image": image.read_document,
}
"""Format → reader; every reader has the signature (path, settings, data=None) -> RawDocument."""

__all__ = [
    "READERS", "PARSER_VERSION", "ExtractSettings", "RawCell", "RawDocument", "RawRow", "RawTable",
    "ExtractError", "DocumentUnreadable", "LimitExceeded", "NoTextLayer", "UnsupportedDocument",
    "fold_document", "read_document", "sniff_format",
]


def read_document(path: Path, settings: ExtractSettings | dict | None = None, data: bytes | None = None) -> RawDocument:
    """Read any supported document. Raises an `ExtractError` naming the file and the reason."""
    settings = ExtractSettings.resolve(settings)
    path = Path(path)
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise DocumentUnreadable(path, f"cannot read file ({exc.strerror})") from exc
        if size > settings.max_bytes:
            raise LimitExceeded(path, f"{size} bytes exceeds max_bytes={settings.max_bytes}")
        data = path.read_bytes()
    elif len(data) > settings.max_bytes:
        raise LimitExceeded(path, f"{len(data)} bytes exceeds max_bytes={settings.max_bytes}")
    if not data.strip():
        raise DocumentUnreadable(path, "empty file")
    fmt = sniff_format(path, data[:8192])
    return fold_document(READERS[fmt](path, settings, data=data))


def fold_document(doc: RawDocument) -> RawDocument:
    """`doc` with radical code points folded to ideographs in its text, hints and cells (a
    browser-printed PDF's ⼯作⼈员 reads 工作人员), before any metadata or matching."""
    if not has_radicals(doc.text) and not any(has_radicals(v) for v in doc.hints.values()):
        return doc
    doc.text = fold_radicals(doc.text)
    doc.hints = {k: fold_radicals(v) for k, v in doc.hints.items()}
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                cell.text = fold_radicals(cell.text)
    return doc
