"""Identities: a report that breaks them is kept, with the failed rule and the difference."""

from __future__ import annotations

from conftest import SEED
from transform.pipeline import process_file
from transform.serialize import result_to_json


def test_broken_row_total_is_reported_with_difference(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace(
        "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0",
        "一、本年新收政府信息公开申请数量\t\t3\t0\t0\t0\t0\t0\t2",
    )
    bad = tmp_path / "broken.txt"
    bad.write_text(text, encoding="utf-8")
    got = result_to_json(process_file(bad))
    assert got["status"] == "partial"
    assert "identity checks failed" in got["reason"]
    failed = {(c["rule"], c["scope"]): c for c in got["checks"] if c["passed"] is False}
    assert failed[("t3_row_total", "t3.new_received")]["difference"] == -1.0
    assert failed[("t3_balance", "t3.natural_person")]["difference"] == 3.0
    value = {(f["item"], f["column"]): f["value"] for f in got["facts"] if f["table"] == "t3"}
    assert value[("new_received", "natural_person")] == 3  # kept as printed


def test_negative_count_fails_non_negative_rule(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace("规章\t0\t0\t0", "规章\t-1\t0\t0")
    bad = tmp_path / "negative.txt"
    bad.write_text(text, encoding="utf-8")
    got = result_to_json(process_file(bad))
    rule6 = [c for c in got["checks"] if c["rule"] == "non_negative_integer" and c["table"] == "t2"]
    assert rule6[0]["passed"] is False and "rules.made=-1" in rule6[0]["detail"]
