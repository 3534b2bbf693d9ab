"""The seed report (text layer of a 2020 PDF) yields exactly the values the issue states."""

from __future__ import annotations


def facts(res, table):
    return {(f["item"], f["column"]): f for f in res["facts"] if f["table"] == table}


def test_seed_metadata(seed_result):
    assert seed_result["status"] == "ok"
    assert seed_result["template"] == "2019"
    assert seed_result["year"] == 2020
    assert seed_result["agency"] == "中卫市机关事务服务中心"
    assert seed_result["published"] == "2021-01-21"


def test_seed_table3_is_161_zero_cells(seed_result):
    t3 = facts(seed_result, "t3")
    assert len(t3) == 161
    assert all(f["value"] == 0 for f in t3.values())


def test_seed_rows_with_a_dropped_cell_are_placed_by_identities_and_marked_derived(seed_result):
    t3 = facts(seed_result, "t3")
    row = [t3[("denied.state_secret", c)] for c in ("natural_person", "commercial", "total")]
    assert all(f["value"] == 0 for f in row)
    assert any("derived" in f.get("flags", []) for f in row)
    assert not any("derived" in f.get("flags", []) for f in facts(seed_result, "t3").values()
                   if f["item"] == "granted")


def test_seed_procurement_amount_keeps_raw_text_and_unit(seed_result):
    t2 = facts(seed_result, "t2")
    assert t2[("central_procurement", "projects")]["value"] == 4
    amount = t2[("central_procurement", "amount")]
    assert amount["value"] == 506.48 and amount["unit"] == "万元" and amount["raw"] == "506.48 万"


def test_seed_table4_review_blank_and_litigation_zero(seed_result):
    t4 = facts(seed_result, "t4")
    assert len(t4) == 15
    assert [t4[("admin_review", c)]["value"] for c in ("upheld", "corrected", "other", "pending", "total")] == [None] * 5
    assert all(f["value"] == 0 for (item, _), f in t4.items() if item.startswith("litigation_"))


def test_seed_all_checks_pass(seed_result):
    assert seed_result["checks"]
    assert all(c["passed"] is True for c in seed_result["checks"])
    assert {c["number"] for c in seed_result["checks"]} == {1, 2, 3, 4, 6}


def test_every_fact_has_provenance(seed_result):
    for f in seed_result["facts"]:
        assert f["page"] is not None and f["loc"]["row"] is not None
