import pytest

from rooms.display_names import check_display_name, endpoint_display_name, valid_display_name

MAX = 64


def test_a_valid_connect_name_is_used_trimmed() -> None:
    assert endpoint_display_name("", {"displayName": "  Bob "}, MAX) == "Bob"
    assert endpoint_display_name("Ann", {"displayName": "Bob"}, MAX) == "Bob"


@pytest.mark.parametrize("value", [None, 7, "", "   ", "x" * 65, ["Bob"], "Bob\nINFO forged"])
def test_an_unusable_connect_name_falls_back_to_the_join_name_or_guest(value: object) -> None:
    assert endpoint_display_name("Ann", {"displayName": value}, MAX) == "Ann"
    assert endpoint_display_name("", {"displayName": value}, MAX) == "Guest"
    assert valid_display_name(value, MAX) is None


def test_a_peer_with_no_name_anywhere_is_a_guest() -> None:
    assert endpoint_display_name("", {}, MAX) == "Guest"


def test_every_path_shares_one_rule_with_its_reason() -> None:
    with pytest.raises(ValueError, match="control characters"):
        check_display_name("a\x1bb", MAX)
    with pytest.raises(ValueError, match="1 to 64"):
        check_display_name(" ", MAX)
    assert check_display_name(" Ann ", MAX) == "Ann"
