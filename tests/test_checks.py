"""Identities: a report that breaks them is kept, with the failed rule and the difference;
and the steps that evaluate them (transform/checks.py)."""

from __future__ import annotations

from conftest import SEED
from transform.checks import (
    compare,
    facts_to_checks,
    non_negative_integers,
    printed_items,
    sum_known,
)
from transform.pipeline import process_file
from transform.records import Fact
from transform.serialize import result_to_json
from transform.templates import Identity, load_templates


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


# The steps of facts_to_checks, on a few hand-made facts.

ROW_TOTAL = Identity("t4_row_total", 4, "t4", "row_sum", lhs=("total",), rhs=("upheld", "corrected"))


def fact(table, item, column, value, *flags) -> Fact:
    return Fact("r", table, item, column, value, None, None, flags=list(flags))


def test_printed_items_keep_the_order_of_the_facts_per_table():
    facts = [fact("t3", "b", "x", 1), fact("t3", "a", "x", 1), fact("t3", "b", "y", 1), fact("t4", "c", "x", 1)]
    assert printed_items(facts) == {"t3": ["b", "a"], "t4": ["c"]}


def test_sum_known_counts_blank_as_zero_and_says_when_a_cell_is_not_known():
    index = {("t", "a", "x"): fact("t", "a", "x", 2), ("t", "b", "x"): fact("t", "b", "x", None, "blank"),
             ("t", "c", "x"): fact("t", "c", "x", None, "unreadable")}
    assert sum_known(index, [("t", "a", "x"), ("t", "b", "x")]) == (2, True)
    assert sum_known(index, [("t", "a", "x"), ("t", "c", "x")]) == (2, False)
    assert sum_known(index, [("t", "a", "x"), ("t", "missing", "x")]) == (2, False)


def test_compare_passes_equal_sides_and_reports_the_difference_otherwise():
    index = {(f.table, f.item, f.column): f for f in
             [fact("t4", "i", "total", 3), fact("t4", "i", "upheld", 1), fact("t4", "i", "corrected", 1)]}
    lhs, rhs = [("t4", "i", "total")], [("t4", "i", "upheld"), ("t4", "i", "corrected")]
    got = compare(ROW_TOTAL, "t4.i", index, lhs, rhs, "r")
    assert got.passed is False and got.difference == 1.0
    index[("t4", "i", "upheld")].value = 2
    assert compare(ROW_TOTAL, "t4.i", index, lhs, rhs, "r").passed is True


def test_compare_of_an_unknown_cell_is_neither_pass_nor_fail():
    index = {("t4", "i", "total"): fact("t4", "i", "total", None, "not_found")}
    got = compare(ROW_TOTAL, "t4.i", index, [("t4", "i", "total")], [("t4", "i", "upheld")], "r")
    assert got.passed is None and got.detail == "involves unreadable or missing cells"
    assert compare(ROW_TOTAL, "t4.i", index, [], [], "r") is None


def test_non_negative_integers_lists_bad_values_and_skips_exempt_ones():
    ident = Identity("non_negative_integer", 6, "*", "non_negative_integer", exempt=("t2.*.change",))
    facts = [fact("t2", "rules", "change", -1), fact("t2", "rules", "made", 1.5), fact("t2", "fees", "n", 2)]
    got = non_negative_integers(ident, facts, "t2", "r")
    assert got.passed is False and got.detail == "rules.made=1.5" and got.lhs == 1.0
    assert non_negative_integers(ident, facts, "t3", "r") is None  # no value to check


def test_facts_to_checks_gives_one_result_per_scope_of_every_identity():
    facts = [fact("t4", it.code, col, 0) for it in load_templates().t4.items
             for col in load_templates().t4.column_order]
    got = facts_to_checks(facts, load_templates(), "r")
    assert {(c.rule, c.scope) for c in got} == {("t4_row_total", "t4.admin_review"),
                                                ("t4_row_total", "t4.litigation_direct"),
                                                ("t4_row_total", "t4.litigation_after_review"),
                                                ("non_negative_integer", "t4")}
    assert all(c.passed for c in got)
