"""Resume secrets: bound to the room and the peer, unforgeable without SECRET_KEY."""

from __future__ import annotations

import pytest
from django.test import override_settings

from rooms.grants import PARTICIPANT, Grant
from rooms.resume import MAX_SECRET_CHARS, InvalidResume, peer_of_secret, resume_secret


def test_a_secret_names_its_peer_and_grants_in_its_room() -> None:
    assert peer_of_secret(resume_secret("alpha", "p1", PARTICIPANT), "alpha") == ("p1", PARTICIPANT)
    moderator = frozenset({Grant.SUBSCRIBE, Grant.MODERATE})
    assert peer_of_secret(resume_secret("alpha", "p1", moderator), "alpha") == ("p1", moderator)


def test_a_secret_is_refused_in_another_room() -> None:
    with pytest.raises(InvalidResume, match="another room"):
        peer_of_secret(resume_secret("alpha", "p1", PARTICIPANT), "beta")


@pytest.mark.parametrize(
    "secret", ["", "x" * (MAX_SECRET_CHARS + 1), 5, None, ["alpha", "p1"], "alpha:p1"]
)
def test_malformed_secrets_are_refused(secret: object) -> None:
    with pytest.raises(InvalidResume):
        peer_of_secret(secret, "alpha")


def test_a_tampered_secret_or_one_signed_with_another_key_is_refused() -> None:
    secret = resume_secret("alpha", "p1", PARTICIPANT)
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")  # one signature character
    with pytest.raises(InvalidResume):
        peer_of_secret(tampered, "alpha")
    with override_settings(SECRET_KEY="another-deployment-key"):
        foreign = resume_secret("alpha", "p1", PARTICIPANT)
    with pytest.raises(InvalidResume):
        peer_of_secret(foreign, "alpha")
