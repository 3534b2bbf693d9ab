"""Identities (勾稽关系) evaluated over a report's facts; every result is a record.
Blank cells count as 0; a scope touching an unreadable or missing cell is `passed =
None` (unknown), not a pass."""

from __future__ import annotations

import fnmatch
from decimal import Decimal

from .numbers import to_decimal
from .records import CheckResult, Fact
from .templates import Templates

_UNKNOWN = {"unreadable", "not_found", "ambiguous"}


def _expand(refs, printed: list[str]) -> list[str]:
    out = []
    for ref in refs:
        if ref.endswith(".*"):
            out += [i for i in printed if i.startswith(ref[:-1])]
        elif ref in printed:
            out.append(ref)
    return out


def facts_to_checks(facts: list[Fact], templates: Templates, report_id: str) -> list[CheckResult]:
    index = {(f.table, f.item, f.column): f for f in facts}
    printed: dict[str, list[str]] = {}
    for f in facts:
        if f.item not in printed.setdefault(f.table, []):
            printed[f.table].append(f.item)
    results: list[CheckResult] = []

    def total(keys) -> tuple[Decimal, bool]:
        s = Decimal(0)
        known = True
        for k in keys:
            f = index.get(k)
            if f is None or _UNKNOWN & set(f.flags):
                known = False
                continue
            s += to_decimal(f.value)
        return s, known

    def emit(ident, scope, lhs_keys, rhs_keys):
        if not lhs_keys and not rhs_keys:
            return
        lhs, k1 = total(lhs_keys)
        rhs, k2 = total(rhs_keys)
        known = k1 and k2 and bool(lhs_keys) and bool(rhs_keys)
        results.append(CheckResult(
            report_id=report_id, rule=ident.rule, number=ident.number, table=ident.table, scope=scope,
            lhs=float(lhs), rhs=float(rhs), difference=float(lhs - rhs),
            passed=(lhs == rhs) if known else None,
            detail=None if known else "involves unreadable or missing cells",
        ))

    for ident in templates.identities:
        if ident.kind == "column_sum":
            items = printed.get(ident.table, [])
            if not items:
                continue
            spec = templates.t3 if ident.table == "t3" else templates.t4
            lhs_items, rhs_items = _expand(ident.lhs, items), _expand(ident.rhs, items)
            for col in spec.column_order:
                emit(ident, f"{ident.table}.{col}", [(ident.table, i, col) for i in lhs_items],
                     [(ident.table, i, col) for i in rhs_items])
        elif ident.kind == "row_sum":
            for item in printed.get(ident.table, []):
                emit(ident, f"{ident.table}.{item}", [(ident.table, item, c) for c in ident.lhs],
                     [(ident.table, item, c) for c in ident.rhs])
        elif ident.kind == "non_negative_integer":
            for table in ("t2", "t3", "t4"):
                bad = []
                checked = 0
                for f in facts:
                    if f.table != table or f.value is None:
                        continue
                    key = f"{f.table}.{f.item}.{f.column}"
                    if any(fnmatch.fnmatchcase(key, pat) for pat in ident.exempt):
                        continue
                    checked += 1
                    if f.value < 0 or f.value != int(f.value):
                        bad.append(f"{f.item}.{f.column}={f.value:g}")
                if checked:
                    results.append(CheckResult(
                        report_id=report_id, rule=ident.rule, number=ident.number, table=table, scope=table,
                        lhs=float(len(bad)), rhs=0.0, difference=float(len(bad)), passed=not bad,
                        detail=", ".join(bad[:20]) or None,
                    ))
    return results
