"""The root of every error xxgk raises on purpose; each stage derives its own from it."""

from __future__ import annotations


class XxgkError(Exception):
    """Root of every error xxgk raises on purpose."""


OCR_OFF = "OCR is off"
OCR_MISSING = "OCR not installed: rapidocr, onnxruntime"
"""Why pages or pictures were not read by OCR, as the readers' reasons say it in brackets
(`load.reads` finds such documents by these words: a later run with OCR on reads them
again). Here, not in `extract`: `load` does not import the readers."""
