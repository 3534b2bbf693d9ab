"""Pre-2019 reports: their tables are not the national form (the 2019 format began with
the reports on 2019), so they are `unsupported`, decided before any row is matched
(fuzzy matching "finds" a few rows in any statistics table).

The year decides when it is known: a report on a year before 2019 is pre-2019, whatever
its tables look like; a report on 2019 or later never is. Without a year, the shape of
the old tables decides: the 2008–2018 statistics table (统计指标 | 单位 | 统计数 …) has a
header that the national form never prints."""

from __future__ import annotations

from extract import RawDocument

from .normalize import norm

FIRST_YEAR = 2019
_LEGACY_HEADER = ("统计指标", "单位")
_LEGACY_VALUE = ("统计数", "数量", "数据")


def legacy_header(cells: list[str]) -> bool:
    """A header row of the old statistics table: 统计指标, 单位 and a value column."""
    texts = [norm(c) for c in cells]
    return all(h in texts for h in _LEGACY_HEADER) and any(v in texts for v in _LEGACY_VALUE)


def legacy_shape(doc: RawDocument) -> bool:
    """Whether any table of `doc` has the old statistics table's header."""
    return any(legacy_header([c.text for c in row.cells]) for t in doc.tables for row in t.rows[:6])


def pre_2019_reason(year: int | None, doc: RawDocument) -> str | None:
    """The `unsupported` reason of a pre-2019 report, or None for any other document."""
    if year is not None:
        if year < FIRST_YEAR:
            return f"pre-2019 report ({year}): its tables are not the national form of 2019/2021"
        return None
    if legacy_shape(doc):
        return "pre-2019 report (year not stated): a 统计指标/单位/统计数 table, not the national form of 2019/2021"
    return None
