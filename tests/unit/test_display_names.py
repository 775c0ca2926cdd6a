"""The one display-name rule, shared by the join, connect and updateEndpointMetadata."""

import pytest

from rooms.display_names import check_display_name, valid_display_name

MAX = 64


@pytest.mark.parametrize(
    "value", [None, 7, "", "   ", "x" * 65, ["Bob"], "Bob\nINFO forged", "a\u2028b"]
)
def test_unusable_names_are_refused(value: object) -> None:
    assert valid_display_name(value, MAX) is None
    with pytest.raises(ValueError):
        check_display_name(value, MAX)


def test_names_are_trimmed_and_may_hold_emoji_sequences() -> None:
    assert check_display_name(" Ann ", MAX) == "Ann"
    family = "\U0001f468\u200d\U0001f469"  # zero-width joiner (Cf) stays allowed
    assert check_display_name(family, MAX) == family


def test_each_refusal_says_why() -> None:
    with pytest.raises(ValueError, match="control characters"):
        check_display_name("a\x1bb", MAX)
    with pytest.raises(ValueError, match="1 to 64"):
        check_display_name(" ", MAX)
