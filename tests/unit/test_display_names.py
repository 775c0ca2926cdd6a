import pytest

from rooms.display_names import endpoint_display_name, valid_display_name


def test_a_valid_connect_name_is_used_trimmed() -> None:
    assert endpoint_display_name("", {"displayName": "  Bob "}) == "Bob"
    assert endpoint_display_name("Ann", {"displayName": "Bob"}) == "Bob"


@pytest.mark.parametrize("value", [None, 7, "", "   ", "x" * 65, ["Bob"]])
def test_an_unusable_connect_name_falls_back_to_the_join_name_or_guest(value: object) -> None:
    assert endpoint_display_name("Ann", {"displayName": value}) == "Ann"
    assert endpoint_display_name("", {"displayName": value}) == "Guest"
    assert valid_display_name(value) is None


def test_a_peer_with_no_name_anywhere_is_a_guest() -> None:
    assert endpoint_display_name("", {}) == "Guest"
