from transform.normalize import norm
from transform.numbers import parse_amount, parse_count


def test_counts_full_width_thousands_and_blanks():
    assert parse_count("１２").value == 12
    assert parse_count("1,234").value == 1234
    assert parse_count(" 7 ").value == 7
    assert parse_count("-3").value == -3
    for blank in ("", "—", "-", "/", "无", "\xa0"):
        assert parse_count(blank).kind == "blank"
    assert parse_count("abc").kind == "unreadable"


def test_amounts_are_normalised_to_wan_yuan():
    assert parse_amount("506.48 万").value == 506.48
    assert parse_amount("251000元").value == 25.1
    assert parse_amount("12.5万元").value == 12.5
    assert parse_amount("5949.088667", header_has_unit=True).value == 5949.088667
    assert parse_amount("3").unit_assumed is True


def test_label_normalisation_unifies_brackets_quotes_and_spaces():
    assert norm("（三） 不予公开") == "(三)不予公开"
    assert norm("危及“三安全一稳定”") == norm('危及"三安全一稳定"')


def test_digits_apart_are_flagged_not_joined_into_one_number():
    # `1 2` is two cells run together or one number spaced out: never guess which
    from transform.numbers import looks_numeric

    for text in ("1 2", "22 7", "1\u30002"):
        assert parse_count(text).kind == "unreadable"
        assert parse_amount(text).kind == "unreadable"
        assert looks_numeric(text)  # still a value cell, so the row keeps its columns
    assert parse_count("12 件").value == 12 and parse_amount("506.48 万").value == 506.48


def test_a_report_with_digits_apart_in_a_cell_is_partial_and_the_cell_flagged(tmp_path):
    import re
    from pathlib import Path

    from transform.pipeline import process_file

    src = Path(__file__).resolve().parent.parent / "data" / "sample" / "gen-2026-00012-2022.html"
    html = src.read_text(encoding="utf-8")
    spaced, n = re.subn(r">227</span>", ">22 7</span>", html, count=1)
    assert n == 1
    doc = tmp_path / "spaced.html"
    doc.write_text(spaced, encoding="utf-8")
    res = process_file(doc)
    (cell,) = [f for f in res.facts if f.raw == "22 7"]
    assert (cell.table, cell.item, cell.column) == ("t3", "new_received", "total")
    assert cell.value is None and "unreadable" in cell.flags
    assert res.status == "partial" and "1 cells unreadable" in res.report.reason
