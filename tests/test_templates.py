import shutil

import pytest

from transform.errors import TemplateSpecError
from transform.templates import TEMPLATE_DIR, expand_items, load_templates


def test_templates_load_with_the_canonical_codes():
    t = load_templates()
    assert [i.code for i in t.t2["2021"].items] == ["rules", "normative_docs", "admin_license", "admin_penalty",
                                                   "admin_coercion", "admin_fees"]
    assert len(t.t3.items_for("2019")) == 23 and len(t.t3.items_for("2021")) == 25
    assert t.t4.column_order == ("upheld", "corrected", "other", "pending", "total")
    assert {i.number for i in t.identities} == {1, 2, 3, 4, 6}


def test_unknown_key_in_a_template_is_refused_naming_the_file(tmp_path):
    for f in TEMPLATE_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    p = tmp_path / "2021.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('code = "rules"', 'code = "rules"\nlabel = "x"', 1), encoding="utf-8")
    with pytest.raises(TemplateSpecError, match="2021.toml: unknown key"):
        load_templates(tmp_path)


def _copy(tmp_path):
    for f in TEMPLATE_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "t3_t4.toml"


def test_a_t4_layout_that_leaves_out_an_item_is_refused(tmp_path):
    p = _copy(tmp_path)
    text = p.read_text(encoding="utf-8")
    cut = text.index("  [[tables.t4.layout.row_parts]]\n  item = \"admin_review\"")
    p.write_text(text[:cut] + text[cut:].split("\n", 3)[3], encoding="utf-8")
    with pytest.raises(TemplateSpecError, match="row_parts must name each 表四 item once"):
        load_templates(tmp_path)


def test_an_unknown_key_in_the_t4_layout_is_refused(tmp_path):
    p = _copy(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace('opens = "行政复议"', 'opens = "行政复议"\nclose = "x"'),
                 encoding="utf-8")
    with pytest.raises(TemplateSpecError, match="unknown key.*tables.t4.layout"):
        load_templates(tmp_path)


def test_expand_items_names_the_printed_items_a_reference_covers():
    printed = ["granted", "denied.a", "denied.b", "other.x"]
    assert expand_items(["granted", "denied.*", "other"], printed) == ["granted", "denied.a", "denied.b"]
