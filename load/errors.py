"""Errors of the load stage."""

from __future__ import annotations

from common.errors import XxgkError


class LoadError(XxgkError):
    """Base of load errors."""


class SchemaMismatch(LoadError):
    """A batch whose columns or types differ from the declared record schema."""


class NotReadOnly(LoadError):
    """SQL given to the query path that would write (COPY, CREATE, ATTACH, SET, …)."""


class WarehouseBusy(LoadError):
    """Another run holds the warehouse's write lock."""


class DamagedWarehouse(LoadError):
    """A warehouse file that cannot be read (truncated, corrupt): the message names it and
    says how to repair."""
