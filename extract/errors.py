"""Errors of the extract stage. All are terminal for the document (never retried)."""

from __future__ import annotations

from common.errors import OCR_MISSING, OCR_OFF, XxgkError, one_line  # noqa: F401 - extract's to use, common's so load and flows share them


class ExtractError(XxgkError):
    """A document could not be read. `status` is what its record says."""

    status = "failed"
    ocr_skipped = False
    """Pages or pictures that only OCR reads were left unread because OCR is off or not
    installed (`documents.ocr_skipped`: a run with OCR on reads the document again)."""

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


class OcrSkipped(UnsupportedDocument):
    """A document only OCR reads (a scan, an image file), not read because OCR is off or not
    installed: a later run with OCR on reads it again."""

    ocr_skipped = True

    def __init__(self, path: object, what: str, why_not_ocr: str):
        super().__init__(path, f"{what} ({why_not_ocr})")


class NoTextLayer(UnsupportedDocument):
    REASON = "no text layer (scanned or blank pages)"

    def __init__(self, path: object, why_not_ocr: str | None = None):
        """`why_not_ocr`: OCR_OFF / OCR_MISSING when the pages were not read by OCR for that
        reason (a later run with OCR on reads them again)."""
        super().__init__(path, self.REASON + (f" ({why_not_ocr})" if why_not_ocr else ""))
        self.ocr_skipped = why_not_ocr is not None
