"""The root of every error xxgk raises on purpose; each stage derives its own from it."""

from __future__ import annotations


class XxgkError(Exception):
    """Root of every error xxgk raises on purpose."""
