"""Errors of the extract stage. All are terminal for the document (never retried)."""

from __future__ import annotations

from common.errors import OCR_MISSING, OCR_OFF, XxgkError  # noqa: F401 - the OCR words: extract's to use, common's so load reads them


def one_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of a message, at most `limit` characters (an engine's or an
    exception's message may hold a traceback): reasons are one line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit] + ("…" if len(line) > limit else "")


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
        """`why_not_ocr`: OCR_OFF / OCR_MISSING when the pages were not read by OCR for that
        reason (a later run with OCR on reads them again)."""
        super().__init__(path, self.REASON + (f" ({why_not_ocr})" if why_not_ocr else ""))
