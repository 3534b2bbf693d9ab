import shutil

import pytest

from transform.errors import TemplateSpecError
from transform.templates import TEMPLATE_DIR, load_templates


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
