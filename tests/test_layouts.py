"""Layouts seen in real reports that the generator does not print (issue 16, "layouts still
missed"): （六） sub-rows numbered `1、2、3、`, DOCX tables inside text boxes or nested in a
frame table, city-scale numbers in narrow PDF columns, reports in traditional characters.
The fixtures are in tests/fixtures/layouts/ (made by its make_fixtures.py, with truth)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, truth_for
from flows.cli import app

LAYOUTS = FIXTURES / "layouts"


def extract_json(path: Path) -> dict:
    res = CliRunner().invoke(app, ["extract", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output.strip().splitlines()[-1])


def wrong_cells(got: dict, truth: dict) -> list:
    values = {(f["table"], f["item"], f["column"]): f["value"] for f in got["facts"]}
    wrong = []
    for f in truth["facts"]:
        key = (f["table"], f["item"], f["column"])
        v = values.get(key, "missing")
        same = (v is None and f["value"] is None) or (
            v not in (None, "missing") and f["value"] is not None and math.isclose(v, f["value"], abs_tol=1e-9))
        if not same:
            wrong.append((key, f["value"], v))
    return wrong


def assert_reads_as_truth(path: Path) -> dict:
    got, truth = extract_json(path), truth_for(path)
    assert wrong_cells(got, truth) == []
    for key in ("template", "year", "agency", "published", "region_code", "status"):
        assert got[key] == truth[key], key
    assert got["status"] == "ok", got["reason"]
    return got


# --- （六）其他处理 sub-rows numbered 1、2、3、 ----------------------------------------------

@pytest.mark.parametrize("printed, normalised", [
    ("3、其他", "3.其他"),
    ("（3）其他", "3.其他"),
    ("３．其他", "3.其他"),
    ("(六)其他处理1、申请人", "(六)其他处理1.申请人"),
])
def test_norm_spells_digit_enumerators_as_the_templates_do(printed, normalised):
    from transform.normalize import norm

    assert norm(printed) == normalised


@pytest.mark.parametrize("text", ["2021、2022年", "1.5、2", "第(1)项"])
def test_unify_enumerators_leaves_numbers_inside_text_alone(text):
    from transform.normalize import unify_enumerators

    assert unify_enumerators(text) == text


def test_other_rows_numbered_with_enumeration_commas_and_wrapped_labels_are_all_found():
    got = assert_reads_as_truth(LAYOUTS / "other-enum-2021.pdf")
    other = {f["item"] for f in got["facts"] if f["item"].startswith("other.") and f["value"] is not None}
    assert other == {"other.no_correction", "other.fee_unpaid", "other.other"}



def test_spanning_candidates_take_a_label_running_from_above_its_numbers_into_below():
    from transform.match import spanning_candidates
    from transform.templates import load_templates

    specs = {"t3": load_templates().t3}
    assert spanning_candidates("4.无正当理由大", "量反复申请", specs) == [(11, "t3", "not_processed.excessive")]
    # wholly below (the next row's first line) or wholly above: not this row's label
    assert spanning_candidates("稳定\"", "4.保护第三方合法权益", specs) == []
    assert spanning_candidates("1.属于国家秘密", "公开", specs) == []


def test_an_unruled_row_whose_label_wraps_around_its_numbers_is_matched_by_the_line_below():
    from extract.models import RawCell, RawRow
    from transform.match import locate, split_row
    from transform.templates import load_templates

    def line(*texts):
        return split_row(RawRow([RawCell(t, 10.0 * k, 10.0 * k + 8) for k, t in enumerate(texts)]), 0)

    rows = [line("1.本机关不掌握"), line("3", "5", "8"), line("相关政府信息"),
            line("（四）无法", "2.没有现成信息"), line("4", "1", "5"), line("提供", "需要另行制作")]
    loc = locate(rows, load_templates(), 2022)
    assert [c.text for c in loc.items[("t3", "unable.not_held")].row.values] == ["3", "5", "8"]
    assert [c.text for c in loc.items[("t3", "unable.needs_creation")].row.values] == ["4", "1", "5"]


def test_other_rows_of_an_unruled_table_with_labels_wrapped_around_their_numbers_are_all_found():
    assert_reads_as_truth(LAYOUTS / "other-enum-unruled-2021.pdf")


# --- DOCX: text boxes and nested tables ----------------------------------------------------

def test_docx_tables_inside_text_boxes_are_read_once():
    got = assert_reads_as_truth(LAYOUTS / "textbox-2021.docx")
    assert not any("duplicate_row" in f["flags"] for f in got["facts"])  # the VML fallback copy is skipped


def test_docx_tables_nested_in_a_frame_table_are_read():
    assert_reads_as_truth(LAYOUTS / "nested-2021.docx")


def test_blocks_yields_a_nested_table_after_its_frame_and_a_cells_own_text_without_it():
    from extract.docx import blocks, tbl_to_raw

    d = docx.Document()
    frame = d.add_table(rows=1, cols=1)
    cell = frame.cell(0, 0)
    cell.paragraphs[0].add_run("表三")
    inner = cell.add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "予以公开"
    inner.cell(0, 1).text = "12"
    got = [(k, tbl_to_raw(el, 0).rows[0].cells if k == "tbl" else el) for k, el in blocks(d.element.body)]
    tables = [[c.text for c in cells] for k, cells in got if k == "tbl"]
    assert tables == [["表三"], ["予以公开", "12"]]


def test_text_boxes_skips_the_vml_fallback_copy_of_a_box():
    import sys

    sys.path.insert(0, str(LAYOUTS))
    from make_fixtures import in_text_box

    from extract.docx import text_boxes

    d = docx.Document()
    tbl = d.add_table(rows=1, cols=1)._tbl
    p = in_text_box(tbl)
    assert len(list(p.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}txbxContent"))) == 2
    assert len(text_boxes(p)) == 1


# --- traditional characters ------------------------------------------------------------------

def test_fold_traditional_gives_the_simplified_labels_and_names():
    from transform.script import fold_traditional

    assert fold_traditional("（三）不予公開 1.屬於國家祕密") == "（三）不予公开 1.属于国家秘密"
    assert fold_traditional("江蘇省淮安市洪澤區人民政府2022年政府信息公開工作年度報告") == \
        "江苏省淮安市洪泽区人民政府2022年政府信息公开工作年度报告"
    assert fold_traditional("衛生健康委員會") == "卫生健康委员会"


def test_a_simplified_document_is_never_changed(seed_result):
    from conftest import SEED
    from extract import read_document
    from transform.script import document_to_simplified, is_traditional

    doc = read_document(SEED)
    assert not is_traditional(doc.text)
    assert document_to_simplified(doc) is doc
    assert not is_traditional("於是" * 20)  # a character also written in simplified text marks nothing


def test_is_traditional_needs_several_traditional_only_characters():
    from transform.script import MIN_TRADITIONAL, is_traditional

    assert not is_traditional("后来" + "開" * (MIN_TRADITIONAL - 1))
    assert is_traditional("開" * MIN_TRADITIONAL)


def test_template_labels_hold_no_character_the_fold_would_change():
    from transform.script import traditional_table
    from transform.templates import load_templates

    t = load_templates()
    specs = [*t.t2.values(), t.t3, t.t4]
    labels = {v for s in specs for it in s.items for v in it.labels} | {
        v for s in specs for c in s.columns.values() for v in c.labels}
    table = traditional_table().table
    assert [lb for lb in labels if lb.translate(table) != lb] == []


@pytest.mark.parametrize("toml, message", [
    ('[fold]\n"開" = "开"\n', "[in_traditional] missing"),
    ('[fold]\n"開" = "开x"\n[in_traditional]\n"於" = "于"\n', "is not one other CJK ideograph"),
    ('[fold]\n"開" = "開"\n[in_traditional]\n"於" = "于"\n', "is not one other CJK ideograph"),
    ('[fold]\n"ab" = "开"\n[in_traditional]\n"於" = "于"\n', "is not one CJK ideograph"),
    ('[fold]\n"開" = "开"\n"开" = "启"\n[in_traditional]\n"於" = "于"\n', "a chain"),
    ('[fold]\n"於" = "于"\n[in_traditional]\n"於" = "于"\n', "in both sections"),
    ('[fold]\n"開" = "开"\n[in_traditional]\n"於" = "于"\n[extra]\n', "unknown section"),
])
def test_traditional_table_refuses_a_malformed_entry_naming_it(tmp_path, toml, message):
    from transform.script import TraditionalTableInvalid, traditional_table

    path = tmp_path / "traditional.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(TraditionalTableInvalid, match=re.escape(message)):
        traditional_table(path)


def test_a_report_page_in_traditional_characters_reads_as_its_simplified_original():
    got = assert_reads_as_truth(LAYOUTS / "traditional-2022.html")
    assert got["agency"] == truth_for(LAYOUTS / "traditional-2022.html")["agency"]


# --- city-scale numbers in narrow PDF columns --------------------------------------------------

@pytest.mark.parametrize("text, joined", [
    ("352 524", 352524), ("35 25 24", 352524), ("１０１ ３", 1013),
    ("352524", None), ("—", None), ("12 万", None), ("3 a", None), ("", None),
    ("0 5", None), ("0 0", None), ("０ 12", None),  # 0 + 5 = 05: a sum identity would confirm it
])
def test_joined_reading_joins_digit_groups_printed_apart_and_nothing_else(text, joined):
    from transform.place import joined_reading

    assert joined_reading(text) == joined


def test_confirmed_joins_needs_every_identity_through_the_cell_to_hold():
    from decimal import Decimal as D

    from transform.place import confirmed_joins

    row = ([("a", "total")], [("a", "x"), ("a", "y")])
    col = ([("a", "x")], [("b", "x")])
    known = {("a", "total"): D(1013), ("a", "y"): D(0), ("b", "x"): D(1013)}
    assert confirmed_joins({("a", "x"): D(1013)}, known, [row, col]) == {("a", "x")}
    assert confirmed_joins({("a", "x"): D(1031)}, known, [row, col]) == set()  # a wrong join breaks both
    # an identity with an unread cell confirms nothing
    assert confirmed_joins({("a", "x"): D(1013)}, {**known, ("b", "x"): None}, [row, col]) == set()


def test_confirmed_joins_never_lets_two_joined_cells_vouch_for_each_other_alone():
    from decimal import Decimal as D

    from transform.place import confirmed_joins

    # 自然人 and 总计 both printed `101 3` with the other cells 0: the row holds whatever they are
    row = ([("a", "total")], [("a", "x"), ("a", "y")])
    readings = {("a", "total"): D(1013), ("a", "x"): D(1013)}
    assert confirmed_joins(readings, {("a", "y"): D(0)}, [row]) == set()


@pytest.mark.parametrize("left, right, gap, apart", [
    ("6", "1", 4.0, True), ("6", "1", 3.0, False), ("6", "万", 6.0, False), ("合", "1", 6.0, False),
])
def test_digits_apart_splits_only_digits_more_than_half_a_character_apart(left, right, gap, apart):
    from extract.models import digits_apart

    assert digits_apart(left, right, gap, size=7.5) is apart


def test_city_numbers_wrapped_in_narrow_ruled_cells_are_read_where_the_identities_confirm_them():
    got = assert_reads_as_truth(LAYOUTS / "narrow-wrap-2022.pdf")
    joined = [f for f in got["facts"] if "joined" in f["flags"]]
    assert len(joined) > 20 and all(f["value"] >= 1000 for f in joined)


def test_city_numbers_touching_their_neighbours_in_an_unruled_table_are_split_by_column():
    got = assert_reads_as_truth(LAYOUTS / "narrow-touch-2022.pdf")
    assert not any("derived" in f["flags"] for f in got["facts"])



def test_a_wrapped_number_that_breaks_an_identity_is_flagged_never_joined():
    from extract import read_document
    from transform.pipeline import build_result
    from transform.serialize import result_to_json

    doc = read_document(LAYOUTS / "narrow-wrap-2022.pdf")
    row = next(r for t in doc.tables for r in t.rows if "本年新收" in r.text())
    cell = next(c for c in row.cells if " " in c.text and c.text.replace(" ", "").isdigit())
    cell.text = cell.text[:-1] + str((int(cell.text[-1]) + 1) % 10)  # a misprint in one wrapped cell
    misprinted = int(cell.text.replace(" ", ""))
    got = result_to_json(build_result(doc, "0" * 64, "test", 1))
    fact = next(f for f in got["facts"] if f["item"] == "new_received" and f["raw"] == cell.text)
    assert fact["value"] is None and "unreadable" in fact["flags"]
    assert not any(f["value"] == misprinted for f in got["facts"])
    assert got["status"] == "partial"
