"""ExtractionResult → the JSON object of `xxgk extract --json` (a public contract:
field names are stable; new fields may be added, none renamed)."""

from __future__ import annotations

import datetime as dt

from .records import CheckResult, ExtractionResult, Fact


def _num(value, amount: bool):
    if value is None:
        return None
    if not amount and float(value) == int(value):
        return int(value)
    return value


def fact_to_json(f: Fact) -> dict:
    out = {"table": f.table, "item": f.item, "column": f.column,
           "value": _num(f.value, f.unit is not None), "unit": f.unit, "raw": f.raw}
    out["flags"] = list(f.flags)
    out["page"] = f.page
    out["loc"] = {"table": f.source_table, "row": f.source_row, "col": f.source_col}
    if f.confidence is not None:
        out["confidence"] = f.confidence
    return out


def check_to_json(c: CheckResult) -> dict:
    return {"rule": c.rule, "number": c.number, "table": c.table, "scope": c.scope, "lhs": c.lhs, "rhs": c.rhs,
            "difference": c.difference, "passed": c.passed, **({"detail": c.detail} if c.detail else {})}


def result_to_json(r: ExtractionResult) -> dict:
    rep = r.report
    return {
        "source": rep.source, "sha256": rep.doc_sha256, "status": rep.status, "reason": rep.reason,
        "format": rep.format, "template": rep.template, "year": rep.year, "agency": rep.agency,
        "published": rep.published.isoformat() if isinstance(rep.published, dt.date) else None,
        "region": rep.region_name, "region_code": rep.region_code, "level": rep.level,
        "body_type": rep.body_type, "body_id": rep.body_id, "pages": rep.pages,
        "parser_version": rep.parser_version,
        "facts": [fact_to_json(f) for f in r.facts],
        "checks": [check_to_json(c) for c in r.checks],
    }
