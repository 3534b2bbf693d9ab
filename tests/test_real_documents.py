"""Real published reports (saved unchanged in tests/fixtures/real) against their truth files."""

from __future__ import annotations

import math

import pytest

from conftest import REAL, truth_for
from transform.pipeline import process_file
from transform.serialize import result_to_json


@pytest.fixture(scope="module", params=REAL, ids=lambda p: p.name)
def case(request):
    return request.param, result_to_json(process_file(request.param)), truth_for(request.param)


def test_every_truth_cell_is_extracted_exactly(case):
    doc, got, truth = case
    values = {(f["table"], f["item"], f["column"]): f["value"] for f in got["facts"]}
    wrong = []
    for f in truth["facts"]:
        key = (f["table"], f["item"], f["column"])
        v = values.get(key, "missing")
        if not ((v is None and f["value"] is None) or (v not in (None, "missing") and f["value"] is not None
                                                        and math.isclose(v, f["value"], abs_tol=1e-9))):
            wrong.append((key, f["value"], v))
    assert wrong == []
    assert len(got["facts"]) == len(truth["facts"])


def test_metadata_matches_truth(case):
    doc, got, truth = case
    for key in ("template", "year", "agency", "published", "region_code", "level", "body_type", "status"):
        assert got[key] == truth[key], key


def test_shanghai_blank_total_column_fails_row_identities_and_is_partial():
    doc = next(p for p in REAL if p.name.startswith("shanghai"))
    got = result_to_json(process_file(doc))
    assert got["status"] == "partial"
    failed = {(c["rule"], c["scope"]): c for c in got["checks"] if c["passed"] is False}
    granted = failed[("t3_row_total", "t3.granted")]
    assert (granted["lhs"], granted["rhs"], granted["difference"]) == (0.0, 272.0, -272.0)
    assert ("t3_results_total", "t3.total") in failed
    assert ("t3_balance", "t3.natural_person") not in failed
    amount = next(f for f in got["facts"] if f["item"] == "central_procurement" and f["column"] == "amount")
    assert amount["value"] == 25.1 and amount["raw"] == "251000元"


def test_hongze_mixed_layout_records_single_other_row_and_reads_typo_label():
    doc = next(p for p in REAL if p.name.startswith("hongze"))
    got = result_to_json(process_file(doc))
    items = {f["item"] for f in got["facts"] if f["table"] == "t3"}
    assert "other" in items and not any(i.startswith("other.") for i in items)
    assert got["status"] == "ok" and got["template"] == "2021"
    law = [f for f in got["facts"] if f["item"] == "denied.law_prohibited"]
    assert all(f["page"] == 3 for f in law)
