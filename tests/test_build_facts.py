"""Located rows → facts (transform/pipeline.py build_facts and its steps), on hand-made
rows; and a document holding a report twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEED
from extract.models import RawCell, RawDocument, RawRow, RawTable
from transform.match import Located, locate, split_row
from transform.pipeline import (
    build_facts,
    duplicate_problems,
    process_file,
    t3_version,
    t4_facts,
    table_slots,
)
from transform.serialize import result_to_json
from transform.templates import load_templates

SEVEN = ("1", "0", "0", "0", "0", "0", "1")


@pytest.fixture(scope="module")
def templates():
    return load_templates()


def raw(*texts: str) -> RawRow:
    return RawRow([RawCell(t) for t in texts])


def rows(*raws: RawRow):
    return [split_row(r, 0) for r in raws]


def located(templates, *raws: RawRow) -> Located:
    return locate(rows(*raws), templates, 2021)


def test_t3_version_follows_the_sixth_rows_printed_not_the_year(templates):
    assert t3_version(located(templates, raw("（六）其他处理", *SEVEN)), "2021") == "2019"
    assert t3_version(located(templates, raw("3.其他", *SEVEN)), "2019") == "2021"
    assert t3_version(located(templates, raw("予以公开", *SEVEN)), "2019") == "2019"


def test_table_slots_give_every_expected_row_and_flag_the_missing_ones(templates):
    loc = located(templates, raw("（一）予以公开", *SEVEN))
    grid, left = table_slots(loc, templates.t3, "2021", templates.identities)
    assert left == []
    assert grid[("granted", "natural_person")].cell.text == "1"
    assert grid[("partially_granted", "total")].flags == ["not_found"]
    assert len({item for item, _ in grid}) == len(templates.t3.items_for("2021"))


def test_table_slots_flag_a_short_table_two_row_unreadable(templates):
    loc = located(templates, raw("规章", "1", "2"))  # three columns, two numbers, no geometry
    grid, left = table_slots(loc, templates.t2["2021"], "2021", templates.identities)
    assert left == ["rules"]
    assert all(grid[("rules", c)].flags == ["unreadable"] for c in ("issued", "repealed", "in_force"))


def test_table_slots_flag_the_rows_of_a_repeated_item(templates):
    loc = located(templates, raw("（一）予以公开", *SEVEN), raw("（一）予以公开", *SEVEN))
    grid, _ = table_slots(loc, templates.t3, "2021", templates.identities)
    assert all("duplicate_row" in s.flags for (item, _), s in grid.items() if item == "granted")
    assert not any("duplicate_row" in s.flags for (item, _), s in grid.items() if item != "granted")


def test_t4_facts_of_a_document_without_table_four_are_not_found(templates):
    facts, problems = t4_facts(located(templates), templates, "r")
    assert len(facts) == 15 and all(f.flags == ["not_found"] for f in facts) and problems == []


def test_t4_facts_of_more_cells_than_columns_without_geometry_are_unreadable_never_blank(templates):
    loc = located(templates, raw("行政复议", "行政诉讼"), raw("", *["0"] * 15), raw("", *["0"] * 15))
    facts, problems = t4_facts(loc, templates, "r")
    assert problems == ["表四 has missing cells that could not be placed"]
    assert all(f.value is None and "unreadable" in f.flags and not f.blank for f in facts)


def test_duplicate_problems_name_the_repeated_rows_as_several_reports(templates):
    loc = located(templates, raw("予以公开", *SEVEN), raw("予以公开", *SEVEN))
    loc.t4.repeated.append("admin_review")
    assert duplicate_problems(loc) == ["several reports in one document? rows repeated: 表三 granted, 表四 admin_review"]
    assert duplicate_problems(located(templates, raw("予以公开", *SEVEN))) == []


def test_duplicate_problems_name_eight_rows_at_most(templates):
    loc = Located("2021", duplicates=[("t3", f"i{k}") for k in range(10)])
    assert duplicate_problems(loc)[0].endswith("表三 i7 …")


def test_build_facts_gives_every_cell_of_the_three_tables(templates):
    doc = RawDocument(Path("x.txt"), "text", "", [RawTable([raw("（一）予以公开", *SEVEN)])])
    facts, t2v, found, problems, _ = build_facts(doc, templates, "r", 2021)
    assert t2v == "2021" and found == {"t3"} and problems == []
    assert {f.table for f in facts} == {"t2", "t3", "t4"}
    assert next(f for f in facts if (f.item, f.column) == ("granted", "total")).value == 1


def test_a_document_holding_the_same_report_twice_is_partial_with_its_rows_flagged(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    doubled = tmp_path / "two-reports.txt"
    doubled.write_text(text + "\n" + text, encoding="utf-8")
    got = result_to_json(process_file(doubled))
    assert got["status"] == "partial"
    assert got["reason"].startswith("several reports in one document? rows repeated: 表二 rules")
    flagged = {(f["table"], f["item"]) for f in got["facts"] if "duplicate_row" in f["flags"]}
    assert ("t3", "granted") in flagged and ("t2", "rules") in flagged


def test_the_seed_report_has_no_repeated_rows(seed_result):
    assert not any("duplicate_row" in f["flags"] for f in seed_result["facts"])
    assert "several reports" not in (seed_result["reason"] or "")
