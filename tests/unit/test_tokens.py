"""rooms.tokens: signed join tokens, and the createroom and roomtoken commands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rooms import tokens
from rooms.grants import PARTICIPANT, Grant
from rooms.messages import JoinRefusal
from rooms.models import JoinPolicy, Room


def refusal_of(token: str, room: str, now: float | None = None) -> JoinRefusal:
    with pytest.raises(tokens.TokenRefused) as raised:
        tokens.verify(token, room, now=now)
    return raised.value.reason


def test_a_token_names_its_room_identity_name_grants_and_expiry() -> None:
    token = tokens.issue(
        "alpha", "u-1", display_name=" Ada ", grants=["subscribe"], ttl=600, now=1000
    )
    claims = tokens.verify(token, "alpha", now=1500)
    assert claims == tokens.JoinToken("alpha", "u-1", "Ada", frozenset({Grant.SUBSCRIBE}), 1600)


def test_a_token_expires_and_is_for_its_room_only() -> None:
    token = tokens.issue("alpha", "u-1", ttl=600, now=1000)
    assert refusal_of(token, "alpha", now=1600) is JoinRefusal.TOKEN_EXPIRED
    assert refusal_of(token, "beta", now=1500) is JoinRefusal.TOKEN_OTHER_ROOM


def test_an_altered_or_foreign_token_is_invalid(settings: object) -> None:
    token = tokens.issue("alpha", "u-1")
    head, _, signature = token.rpartition(":")
    assert refusal_of(f"{head}:{signature[::-1]}", "alpha") is JoinRefusal.TOKEN_INVALID
    assert refusal_of("x" * 3000, "alpha") is JoinRefusal.TOKEN_INVALID
    # Signed with the same key for another purpose: the salt keeps it out.
    from django.core import signing

    other = signing.dumps({"room": "alpha", "sub": "u", "grants": [], "exp": 2**40})
    assert refusal_of(other, "alpha") is JoinRefusal.TOKEN_INVALID


def test_a_token_signed_under_another_secret_key_is_invalid(settings: object) -> None:
    token = tokens.issue("alpha", "u-1")
    settings.SECRET_KEY = "another-secret-key-entirely"  # type: ignore[attr-defined]
    assert refusal_of(token, "alpha") is JoinRefusal.TOKEN_INVALID


@pytest.mark.parametrize(
    ("room", "identity", "kwargs"),
    [
        ("bad room", "u", {}),
        ("alpha", "", {}),
        ("alpha", "u", {"grants": ["fly"]}),
        ("alpha", "u", {"ttl": 0}),
        ("alpha", "u", {"display_name": "a\nb"}),
    ],
)
def test_issue_refuses_what_no_join_could_use(
    room: str, identity: str, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        tokens.issue(room, identity, **kwargs)  # type: ignore[arg-type]


def test_roomtoken_prints_a_token_for_the_room_with_the_moderate_grant_on_request() -> None:
    out = StringIO()
    call_command(
        "roomtoken", "alpha", "--identity", "ada", "--name", "Ada", "--ttl", "90", stdout=out
    )
    claims = tokens.verify(out.getvalue().strip(), "alpha")
    assert (claims.identity, claims.display_name, claims.grants) == ("ada", "Ada", PARTICIPANT)
    out = StringIO()
    call_command("roomtoken", "alpha", "--identity", "boss", "--moderator", stdout=out)
    assert Grant.MODERATE in tokens.verify(out.getvalue().strip(), "alpha").grants
    with pytest.raises(CommandError):
        call_command("roomtoken", "no room!", "--identity", "x", stdout=StringIO())


@pytest.mark.django_db
def test_createroom_makes_a_room_with_its_policy_pin_and_limit() -> None:
    call_command(
        "createroom",
        "board",
        "--policy",
        "pin",
        "--pin",
        "4711",
        "--max-participants",
        "5",
        stdout=StringIO(),
    )
    room = Room.objects.get(name="board")
    assert (room.join_policy, room.max_participants) == (JoinPolicy.PIN, 5)
    assert room.check_pin("4711") and not room.check_pin("4712") and "4711" not in room.pin_hash
    call_command("createroom", "hall", stdout=StringIO())
    assert Room.objects.get(name="hall").join_policy == JoinPolicy.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["board"],  # exists
        ["new-pin", "--policy", "pin"],  # a pin room without a PIN
        ["new-open", "--pin", "1"],  # a PIN for a room that does not ask for one
        ["no room!"],
        ["big", "--max-participants", "0"],
    ],
)
def test_createroom_refuses_unusable_rooms(args: list[str]) -> None:
    Room.objects.create(name="board")
    with pytest.raises(CommandError):
        call_command("createroom", *args, stdout=StringIO())
