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
