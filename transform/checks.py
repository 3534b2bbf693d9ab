"""Identities (勾稽关系) evaluated over a report's facts; every result is a record.
Blank cells count as 0; a scope touching an unreadable or missing cell is `passed =
None` (unknown), not a pass."""

from __future__ import annotations

import fnmatch
import functools
from decimal import Decimal

from .numbers import to_decimal
from .records import CheckResult, Fact
from .templates import Identity, Templates, expand_items

_UNKNOWN = {"unreadable", "not_found", "ambiguous", "missing"}

FactKey = tuple[str, str, str]
"""(table, item, column)."""


def printed_items(facts: list[Fact]) -> dict[str, list[str]]:
    """Table → its items in the order of the facts."""
    printed: dict[str, dict[str, None]] = {}  # a dict keeps its keys in the order first set
    for f in facts:
        printed.setdefault(f.table, {})[f.item] = None
    return {table: list(items) for table, items in printed.items()}


def sum_known(index: dict[FactKey, Fact], keys: list[FactKey]) -> tuple[Decimal, bool]:
    """The sum of the facts at `keys` (blank = 0) and whether every one of them is known."""
    s = Decimal(0)
    known = True
    for k in keys:
        f = index.get(k)
        if f is None or not _UNKNOWN.isdisjoint(f.flags):
            known = False
            continue
        s += to_decimal(f.value)
    return s, known


def compare(ident: Identity, scope: str, index: dict[FactKey, Fact], lhs_keys: list[FactKey],
            rhs_keys: list[FactKey], report_id: str) -> CheckResult | None:
    """One scope of a sum identity; `passed` None when a side is empty or involves a cell
    not known; None when both sides are empty."""
    if not lhs_keys and not rhs_keys:
        return None
    lhs, k1 = sum_known(index, lhs_keys)
    rhs, k2 = sum_known(index, rhs_keys)
    known = k1 and k2 and bool(lhs_keys) and bool(rhs_keys)
    return CheckResult(
        report_id=report_id, rule=ident.rule, number=ident.number, table=ident.table, scope=scope,
        lhs=float(lhs), rhs=float(rhs), difference=float(lhs - rhs),
        passed=(lhs == rhs) if known else None,
        detail=None if known else "involves unreadable or missing cells",
    )


def sum_scopes(ident: Identity, templates: Templates, items: list[str]):
    """(scope, lhs keys, rhs keys) of a sum identity over the printed items: one per
    column (column_sum) or per item (row_sum)."""
    t = ident.table
    if ident.kind == "column_sum":
        if not items:
            return
        spec = templates.t3 if t == "t3" else templates.t4
        lhs_items, rhs_items = expand_items(ident.lhs, items), expand_items(ident.rhs, items)
        for col in spec.column_order:
            yield f"{t}.{col}", [(t, i, col) for i in lhs_items], [(t, i, col) for i in rhs_items]
    elif ident.kind == "row_sum":
        for item in items:
            yield f"{t}.{item}", [(t, item, c) for c in ident.lhs], [(t, item, c) for c in ident.rhs]


@functools.lru_cache(maxsize=1 << 12)
def _exempt(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a fact's `table.item.column` matches an exemption pattern (cached: the same
    names and patterns in every report)."""
    return any(fnmatch.fnmatchcase(name, pat) for pat in patterns)


def non_negative_integers(ident: Identity, facts: list[Fact], table: str, report_id: str) -> CheckResult | None:
    """Identity 6 over one table: every value not exempt is a non-negative integer
    (None when the table has no value to check)."""
    bad = []
    checked = 0
    for f in facts:
        if f.table != table or f.value is None:
            continue
        if _exempt(f"{f.table}.{f.item}.{f.column}", ident.exempt):
            continue
        checked += 1
        if f.value < 0 or f.value != int(f.value):
            bad.append(f"{f.item}.{f.column}={f.value:g}")
    if not checked:
        return None
    return CheckResult(
        report_id=report_id, rule=ident.rule, number=ident.number, table=table, scope=table,
        lhs=float(len(bad)), rhs=0.0, difference=float(len(bad)), passed=not bad,
        detail=", ".join(bad[:20]) or None,
    )


def facts_to_checks(facts: list[Fact], templates: Templates, report_id: str) -> list[CheckResult]:
    """Every identity of the templates over the report's facts, in template order."""
    index = {(f.table, f.item, f.column): f for f in facts}
    printed = printed_items(facts)
    results: list[CheckResult | None] = []
    for ident in templates.identities:
        if ident.kind == "non_negative_integer":
            results += [non_negative_integers(ident, facts, table, report_id) for table in ("t2", "t3", "t4")]
        else:
            results += [compare(ident, scope, index, lhs, rhs, report_id)
                        for scope, lhs, rhs in sum_scopes(ident, templates, printed.get(ident.table, []))]
    return [r for r in results if r is not None]
