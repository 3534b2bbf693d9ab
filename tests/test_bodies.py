"""The body registry: printed names → canonical name → region → a stable body_id."""

from __future__ import annotations

import pytest

from transform.bodies import (
    BodyRegistryError,
    Registry,
    body_id,
    canonical_name,
    load_registry,
    normalise_name,
    parse_registry,
    registered_region,
    resolve_body,
    strip_ancestors,
)

TINY = parse_registry({
    "alias": [{"canonical": "上海市卫生健康委员会", "names": ["上海市卫生和计划生育委员会", "上海市卫计委"], "since": 2018}],
    "body": [{"name": "平潭综合实验区", "region": "福建省福州市平潭县", "region_code": "350128",
              "level": "县级", "kind": "government"}],
})


@pytest.mark.parametrize("printed, normalised", [
    (" 淮安市 洪泽区\u3000人民政府 ", "淮安市洪泽区人民政府"),       # whitespace of every kind
    ("ＸＸ市第１中学", "XX市第1中学"),                             # full-width → half-width
    ("某市人民政府（国资委）", "某市人民政府(国资委)"),
    ("某市人民政府【国资委】", "某市人民政府(国资委)"),
    ("《洪泽区人民政府》", "洪泽区人民政府"),                        # surrounding quotes
    ("洪泽区政府", "洪泽区人民政府"),                                # 政府 after a division
    ("洪泽区政府办", "洪泽区人民政府办公室"),
    ("洪泽区政府办公室", "洪泽区人民政府办公室"),
    ("淮安市政府采购中心", "淮安市政府采购中心"),                    # not a 人民政府: left alone
    ("城关街道", "城关街道办事处"),
    ("城关街道办", "城关街道办事处"),
    ("上海市人民政府办公厅", "上海市人民政府办公厅"),                # 办公厅 is a body of its own
])
def test_printed_names_are_normalised_only_where_the_forms_are_the_same_body(printed, normalised):
    assert normalise_name(printed) == normalised


def test_no_name_normalises_to_none():
    assert normalise_name(None) is None and normalise_name(" \u3000") is None


def test_aliases_and_renames_resolve_to_the_canonical_name():
    assert canonical_name("上海市卫生和计划生育委员会", TINY) == "上海市卫生健康委员会"
    assert canonical_name("上海市 卫计委", TINY) == "上海市卫生健康委员会"
    assert canonical_name("上海市卫生健康委员会", TINY) == "上海市卫生健康委员会"
    assert canonical_name("上海市民政局", TINY) == "上海市民政局"


def test_a_body_that_is_no_division_and_its_departments_get_the_division_it_belongs_to():
    assert registered_region("平潭综合实验区", TINY).code == "350128"
    dept = registered_region("平潭综合实验区财政金融局", TINY)
    assert (dept.code, dept.level, dept.body_type) == ("350128", "县级", "department")
    assert registered_region("福州市财政局", TINY) is None


def test_ancestor_names_are_stripped_only_when_the_own_division_follows():
    assert strip_ancestors("江苏省淮安市洪泽区人民政府", ["江苏省", "江苏", "淮安市"], "洪泽区") == "洪泽区人民政府"
    assert strip_ancestors("吉林市人民政府", ["吉林省", "吉林"], "吉林市") == "吉林市人民政府"


def test_body_id_is_the_division_code_and_the_name_and_unknown_divisions_get_000000():
    assert body_id("320813", "洪泽区人民政府") == "320813-洪泽区人民政府"
    assert body_id(None, "朝阳区财政局") == "000000-朝阳区财政局"
    assert body_id("320813", None) is None


@pytest.mark.parametrize("a, b", [
    ("江苏省淮安市洪泽区人民政府", "淮安市洪泽区人民政府"),
    ("淮安市洪泽区政府", "淮安市 洪泽区 人民政府"),
    ("上海市卫生和计划生育委员会", "上海市卫生健康委员会"),
    ("吉林省吉林市人民政府", "吉林市人民政府"),
])
def test_one_body_printed_two_ways_has_one_body_id(a, b):
    assert resolve_body(a, TINY).body_id == resolve_body(b, TINY).body_id


def test_different_bodies_have_different_body_ids():
    ids = {resolve_body(n, TINY).body_id for n in
           ("北京市朝阳区人民政府", "长春市朝阳区人民政府", "吉林省人民政府", "吉林市人民政府", "上海市人民政府办公厅",
            "上海市人民政府")}
    assert len(ids) == 6


def test_the_bundled_registry_loads_and_places_pingtan():
    reg = load_registry()
    assert resolve_body("平潭综合实验区", reg).body_id == "350128-平潭综合实验区"
    assert resolve_body("国家卫生和计划生育委员会", reg).name == "国家卫生健康委员会"


@pytest.mark.parametrize("raw, message", [
    ({"alias": [{"canonical": "甲局", "names": ["乙局"], "typo": 1}]}, "unknown key"),
    ({"alias": [{"canonical": "甲局"}]}, "lacks"),
    ({"alias": [{"canonical": "甲局", "names": []}]}, "non-empty list"),
    ({"alias": [{"canonical": "甲局", "names": ["乙局"]}, {"canonical": "丙局", "names": ["乙局"]}]}, "already an alias"),
    ({"alias": [{"canonical": "甲局", "names": ["乙局"]}, {"canonical": "乙局", "names": ["丁局"]}]}, "no chains"),
    ({"body": [{"name": "某区", "region": "某", "region_code": "3501", "level": "县级", "kind": "government"}]},
     "6 digits"),
    ({"body": [{"name": "某区", "region": "某", "region_code": "350128", "level": "区级", "kind": "government"}]},
     "level must be"),
    ({"bodys": []}, "unknown section"),
    ({"alias": [{"canonical": "甲局", "names": ["甲局"]}]}, "its own canonical name"),
])
def test_a_malformed_registry_is_refused_naming_the_entry(raw, message):
    with pytest.raises(BodyRegistryError, match=message):
        parse_registry(raw)


def test_an_empty_registry_resolves_names_by_the_division_table_alone():
    ref = resolve_body("淮安市洪泽区财政局", Registry())
    assert (ref.body_id, ref.region.code, ref.region.body_type) == ("320813-洪泽区财政局", "320813", "department")
    assert resolve_body(None, Registry()).body_id is None


@pytest.mark.parametrize("printed", [
    "朝阳区人民政府",      # in Beijing and in Changchun
    "鼓楼区财政局",        # 鼓楼区: in Nanjing, Fuzhou, Xuzhou, Kaifeng
    "城关镇人民政府",      # hundreds of 城关镇
    "]财政局",             # a fragment left by markup in a title
    "drop--",
])
def test_a_name_that_names_no_one_body_gets_no_body_id_rather_than_one_two_bodies_would_share(printed):
    assert resolve_body(printed, Registry()).body_id is None


@pytest.mark.parametrize("printed, expected", [
    ("国家卫生健康委员会", "000000-国家卫生健康委员会"),   # a central body: unique without a division
    ("北京市朝阳区人民政府", "110105-朝阳区人民政府"),     # the same name with its parent is placed
])
def test_unique_names_keep_a_body_id(printed, expected):
    assert resolve_body(printed, Registry()).body_id == expected
