"""Errors of the extract stage. All are terminal for the document (never retried)."""

from __future__ import annotations

from common.errors import XxgkError


class ExtractError(XxgkError):
    """A document could not be read. `status` is what its record says."""

    status = "failed"

    def __init__(self, path: object, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DocumentUnreadable(ExtractError):
    """Corrupt, truncated, empty or otherwise unparseable input."""


class LimitExceeded(DocumentUnreadable):
    """A per-document limit (bytes, pages, depth, unzipped size) tripped."""


class UnsupportedDocument(ExtractError):
    """A real document in a form xxgk cannot read here (scans, legacy .doc without a converter)."""

    status = "unsupported"


class NoTextLayer(UnsupportedDocument):
    REASON = "no text layer (scanned or blank pages)"

    def __init__(self, path: object, why_not_ocr: str | None = None):
        """`why_not_ocr`: "OCR is off" / "OCR not installed: …" when the pages were not read
        by OCR for that reason (a later run with OCR on reads them again)."""
        super().__init__(path, self.REASON + (f" ({why_not_ocr})" if why_not_ocr else ""))
