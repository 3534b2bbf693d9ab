"""The root of every error xxgk raises on purpose; each stage derives its own from it."""

from __future__ import annotations


class XxgkError(Exception):
    """Root of every error xxgk raises on purpose."""


def one_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of a message, at most `limit` characters (an engine's or an
    exception's message may hold a traceback): reasons and `runs.error` are one line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit] + ("…" if len(line) > limit else "")


OCR_OFF = "OCR is off"
OCR_MISSING = "OCR not installed: rapidocr, onnxruntime"
"""Why pages or pictures were not read by OCR, as the readers' reasons say it in brackets.
A document left unread so says it in its typed `documents.ocr_skipped`; `load.reads` looks
for these words only in documents recorded before that column was kept. Here, not in
`extract`: `load` does not import the readers."""
