"""Browser-printed PDFs spell 工/人/民 with radical code points; dates come in every format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from common.text import RadicalTableInvalid, fold_radicals, parse_radical_table, radical_table
from extract.metadata import cn_number, metadata_from_document, signature
from extract.models import RawDocument
from transform.normalize import norm

SEED = Path(__file__).parent / "fixtures" / "seed" / "000_88a088b4017afa2e.txt"
# what Chromium's text layer shows: Kangxi radicals ⼯ ⼈ ⽇ and the supplement's ⺠ ⻓ ⻔
PRINTED = str.maketrans({"工": "\u2f2f", "人": "\u2f08", "民": "\u2ea0", "日": "\u2f47", "长": "\u2ed3", "门": "\u2ed4"})


def test_kangxi_radicals_fold_by_nfkc_and_supplement_by_the_table():
    assert fold_radicals("政府信息公开\u2f2f作年度报告") == "政府信息公开工作年度报告"
    assert fold_radicals("\u2f08\u2ea0政府") == "人民政府"
    assert fold_radicals("\u2ed4\u2ed3") == "门长"


def test_fold_leaves_every_other_character_alone():
    text = "（一）１２３ 全角，半角, ⑴ ①"
    assert fold_radicals(text) == text
    assert fold_radicals("") == ""


def _unified(ch: str) -> bool:
    cp = ord(ch)
    return 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0x20000 <= cp <= 0x323AF


def test_every_radical_maps_to_a_unified_ideograph_and_every_key_is_a_radical():
    table = radical_table()
    assert all(0x2E80 <= cp <= 0x2EFF or 0x2F00 <= cp <= 0x2FD5 for cp in table)
    assert all(len(v) == 1 and _unified(v) for v in table.values())
    assert len([cp for cp in table if cp >= 0x2F00]) == 214  # every Kangxi radical
    assert len([cp for cp in table if cp < 0x2F00]) == 114  # every supplement line of the UCD file


@pytest.mark.parametrize("radical, ideograph", [
    ("\u2ea0", "民"), ("\u2f2f", "工"), ("\u2f08", "人"), ("\u2ed3", "长"), ("\u2ed8", "青"), ("\u2ed4", "门"),
    ("\u2eda", "页"), ("\u2e9f", "母"), ("\u2ef3", "龟"), ("\u2e82", "乛"), ("\u2e83", "乚"), ("\u2e88", "刀"),
    ("\u2e97", "心"), ("\u2ebc", "肉"), ("\u2ecf", "邑"), ("\u2eb4", "冗"), ("\u2eca", "\U00027fb7"),
])
def test_radicals_fold_as_unicodes_equivalent_unified_ideograph(radical, ideograph):
    """EquivalentUnifiedIdeograph.txt 15.1.0 (data/radicals.toml names it)."""
    assert fold_radicals(radical) == ideograph


@pytest.mark.parametrize("radical, ideograph", [("\u2f3e", "户"), ("\u2e95", "彐"), ("\u2eab", "罒")])
def test_radicals_fold_as_browser_printed_pdfs_mean_them_where_that_differs(radical, ideograph):
    """What Chromium's ToUnicode gives for 户 (门户网站), 彐 and 罒 in Noto CJK SC."""
    assert fold_radicals(radical) == ideograph


@pytest.mark.parametrize("bad", [{"supplement": {"工": "工"}}, {"supplement": {"\u2ea0": "AB"}}, {},
                                 {"supplement": {"\u2ea0": "民"}, "kangxi": {"\u2ea0": "民"}},
                                 {"supplement": {"\u2ea0": "民"}, "kangxi": {"\u2f3e": "⼾"}}])
def test_a_malformed_radical_table_is_refused_naming_the_entry(bad):
    with pytest.raises(RadicalTableInvalid):
        parse_radical_table(bad)


def test_labels_with_radicals_normalise_like_the_ideographs():
    assert norm("（⼀）⼯作⼈员") == norm("（一）工作人员")


@pytest.mark.parametrize("text, value", [("2021", 2021), ("二〇二一", 2021), ("二○二○", 2020), ("一", 1),
                                         ("十", 10), ("十二", 12), ("二十一", 21), ("三十", 30), ("十十", None),
                                         ("二十一十", None)])
def test_date_parts_in_digits_or_chinese_numerals(text, value):
    assert cn_number(text) == value


def test_signature_date_in_chinese_numerals():
    body, date = signature("正文\n中卫市机关事务服务中心\n二〇二一年一月二十一日\n")
    assert (body, date) == ("中卫市机关事务服务中心", dt.date(2021, 1, 21))


@pytest.mark.parametrize("line, date", [
    ("发布时间：2021-01-21 10:30", dt.date(2021, 1, 21)),
    ("时间：2022年1月5日", dt.date(2022, 1, 5)),
    ("发布日期: 2023/01/30", dt.date(2023, 1, 30)),
    ("统计时间：2020年1月1日至2020年12月31日", None),
])
def test_published_from_labelled_lines_not_from_statistic_periods(line, date):
    doc = RawDocument(path=Path("x.txt"), format="text", text=f"某某县2020年政府信息公开工作年度报告\n{line}\n正文")
    assert metadata_from_document(doc).published == date


def test_browser_printed_metadata_is_read_through_the_radicals():
    text = SEED.read_text(encoding="utf-8")
    printed = RawDocument(path=SEED, format="text", text=text.translate(PRINTED))
    plain = metadata_from_document(RawDocument(path=SEED, format="text", text=text))
    got = metadata_from_document(printed)
    assert (got.agency, got.year, got.published) == (plain.agency, plain.year, plain.published)
    assert got.agency == "中卫市机关事务服务中心" and got.published == dt.date(2021, 1, 21)


def test_a_browser_printed_report_gives_the_same_facts_and_metadata(tmp_path, seed_result):
    from transform.pipeline import process_file
    from transform.serialize import result_to_json

    doc = tmp_path / "printed.txt"
    doc.write_text(SEED.read_text(encoding="utf-8").translate(PRINTED), encoding="utf-8")
    got = result_to_json(process_file(doc))
    keys = ("status", "template", "year", "agency", "published", "region_code", "level")
    assert {k: got[k] for k in keys} == {k: seed_result[k] for k in keys}
    assert [(f["table"], f["item"], f["column"], f["value"]) for f in got["facts"]] == \
        [(f["table"], f["item"], f["column"], f["value"]) for f in seed_result["facts"]]
