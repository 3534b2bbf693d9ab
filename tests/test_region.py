"""Region, GB/T 2260 code, level and kind of the issuing body, from its name."""

from __future__ import annotations

import pytest

from transform.region import resolve


@pytest.mark.parametrize("name, code, level, kind", [
    ("淮安市洪泽区人民政府", "320813", "县级", "government"),
    ("中卫市机关事务服务中心", "640500", "市级", "department"),
    ("上海市人民政府办公厅", "310000", "省级", "department"),
    ("北京市朝阳区人民政府", "110105", "县级", "government"),
    ("吉林市人民政府", "220200", "市级", "government"),          # the city, not 吉林(省)+市
    ("吉林省人民政府", "220000", "省级", "government"),
    ("广西百色市西林县农业农村局", "451030", "县级", "department"),  # province by its short name
    ("仙桃市人民政府", "429004", "县级", "government"),          # 省直辖 county-level city
    ("江苏省淮安市洪泽区城关镇人民政府", "320813", "乡镇", "government"),
    ("积石山保安族东乡族撒拉族自治县人民政府", "622927", "县级", "government"),
])
def test_region_code_level_and_kind_are_resolved_from_the_body_name(name, code, level, kind):
    got = resolve(name)
    assert (got.code, got.level, got.body_type) == (code, level, kind)


def test_a_county_name_shared_by_several_divisions_is_not_guessed():
    got = resolve("朝阳区财政局")  # 北京市朝阳区 or 长春市朝阳区
    assert got.code is None and got.level is None


def test_a_body_that_is_no_division_has_no_region():
    assert resolve("平潭综合实验区").code is None
    assert resolve(None).code is None
