"""Number cells that are missing, not blank: a table whose labels are printed as text but
whose every number cell holds nothing (numbers drawn as images, or a font without usable
text) is no table of zeros.

A cell with nothing in it is read as `blank` (zero) because publishers leave zeros empty.
That reading needs evidence: a count table (表三, 表四) that holds numbers and empty cells
side by side shows that this publisher leaves zeros empty. A table with nothing at all
in any of its number cells, in a document where no count table shows that convention, is
flagged `missing` (value null; identities over it are unknown) and the report is
`partial`. An explicit dash, 0, 无 or any number is printed content: such a table is
a value, never missing.

    >>> flagged, tables = flag_missing(facts)   # pure: facts are copied, not changed
"""

from __future__ import annotations

import dataclasses

from .records import CheckResult, Fact

REASON = "number cells empty while labels are printed: numbers may be images"
TABLES = ("t2", "t3", "t4")
COUNT_TABLES = ("t3", "t4")
MIN_CELLS = 3
"""A table with fewer located cells than this says nothing either way."""


def has_content(f: Fact) -> bool:
    """Something was printed (a number, 0, a dash) or a value is known (derived)."""
    return bool(f.raw and f.raw.strip()) or f.value is not None


def located(facts: list[Fact], table: str) -> list[Fact]:
    """The cells of `table` whose row was found (the labels are printed)."""
    return [f for f in facts if f.table == table and "not_found" not in f.flags]


def empty_tables(facts: list[Fact]) -> list[str]:
    """Tables with at least MIN_CELLS located cells, none of them holding anything."""
    out = []
    for t in TABLES:
        cells = located(facts, t)
        if len(cells) >= MIN_CELLS and not any(has_content(f) for f in cells):
            out.append(t)
    return out


def leaves_zeros_empty(facts: list[Fact]) -> bool:
    """Whether a count table holds printed content and empty cells side by side."""
    for t in COUNT_TABLES:
        cells = located(facts, t)
        if any(has_content(f) for f in cells) and not all(has_content(f) for f in cells):
            return True
    return False


def missing_tables(facts: list[Fact]) -> list[str]:
    """The tables whose empty number cells are missing rather than blank."""
    return [] if leaves_zeros_empty(facts) else empty_tables(facts)


def _missing(f: Fact) -> Fact:
    flags = [x for x in f.flags if x != "blank"] + ["missing"]
    return dataclasses.replace(f, value=None, blank=False, flags=flags)


def flag_missing(facts: list[Fact]) -> tuple[list[Fact], list[str]]:
    """(facts with the empty cells of missing tables flagged `missing`, those tables)."""
    tables = missing_tables(facts)
    if not tables:
        return facts, []
    return [_missing(f) if f.table in tables and "not_found" not in f.flags and not has_content(f) else f
            for f in facts], tables


def unknown_checks(checks: list[CheckResult], tables: list[str]) -> list[CheckResult]:
    """Identities over a missing table are unknown (`passed` null), not 0 = 0 passes."""
    return [dataclasses.replace(c, passed=None, detail="involves missing cells") if c.table in tables else c
            for c in checks]
