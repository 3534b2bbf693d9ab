"""Errors of the transform stage."""

from __future__ import annotations

from common.errors import XxgkError


class TransformError(XxgkError):
    """Raised for programming or configuration errors; document defects become records."""


class TemplateSpecError(TransformError):
    """A template file in data/templates/ is malformed (names the file and the key)."""
