"""Who may enter which room, over the real ASGI app (Origin check, AuthMiddlewareStack,
UserSocket, PeerChannel, the database) with FakeRooms in the embedded worker."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from rooms import tokens
from rooms.grants import Grant
from rooms.messages import RemovalReason
from rooms.models import JoinPolicy, Participation, Room
from rooms.sfu.config import MediaConfig
from tests.phoenix.client import PhoenixTestClient
from tests.worker.fake_room import FakeRoom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_rooms")]


def refused(reason: str) -> dict[str, Any]:
    return {"status": "error", "response": {"reason": reason}}


async def connected(address: str = "127.0.0.1", cookie: str | None = None) -> PhoenixTestClient:
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    client = PhoenixTestClient(client=(address, 40000), headers=headers)
    assert (await client.connect())[0]
    return client


async def join(room: str, params: dict[str, Any], **kwargs: Any) -> list[Any]:
    client = await connected(**kwargs)
    try:
        return await client.join(f"room:{room}", {"displayName": "Ann", **params})
    finally:
        await client.close()


@sync_to_async
def make_room(name: str, policy: JoinPolicy, pin: str = "") -> Room:
    room = Room(name=name, join_policy=policy)
    if pin:
        room.set_pin(pin)
    room.save()
    return room


@sync_to_async
def refusals(room: str) -> list[str]:
    rows = Participation.objects.filter(room__name=room, leave_reason=RemovalReason.REFUSED)
    return sorted(rows.values_list("refusal", flat=True))


# --- open ------------------------------------------------------------------------------


async def test_an_open_room_admits_anyone_with_the_participant_grants() -> None:
    await make_room("lobby", JoinPolicy.OPEN)
    reply = await join("lobby", {})
    assert reply[4]["status"] == "ok"
    assert reply[4]["response"]["grants"] == ["publish", "subscribe"]


# --- pin -------------------------------------------------------------------------------


async def test_a_pin_room_admits_the_right_pin_and_refuses_a_missing_or_wrong_one() -> None:
    room = await make_room("board", JoinPolicy.PIN, pin="482913")
    assert "482913" not in room.pin_hash and room.pin_hash.startswith("pbkdf2_sha256$")
    assert (await join("board", {}))[4] == refused("pin required")
    assert (await join("board", {"pin": "000000"}))[4] == refused("wrong pin")
    reply = await join("board", {"pin": " 482913 "})
    assert reply[4]["status"] == "ok", reply
    assert await refusals("board") == ["pin required", "wrong pin"]


async def test_wrong_pins_are_rate_limited_per_address_and_room(settings: Any) -> None:
    settings.VIDEOROOM_LIMITS = dataclasses.replace(
        django_settings.VIDEOROOM_LIMITS, failed_attempts_per_minute_per_address_room=3
    )
    await make_room("vault", JoinPolicy.PIN, pin="271828")
    await make_room("other", JoinPolicy.PIN, pin="314159")
    for guess in ("1", "2", "3"):
        reply = await join("vault", {"pin": guess}, address="10.1.0.1")
        assert reply[4] == refused("wrong pin")
    # Past the bound even the right PIN is not checked, from that address, on that room.
    reply = await join("vault", {"pin": "271828"}, address="10.1.0.1")
    assert reply[4] == refused("too many attempts")
    assert (await join("other", {"pin": "314159"}, address="10.1.0.1"))[4]["status"] == "ok"
    assert (await join("vault", {"pin": "271828"}, address="10.1.0.2"))[4]["status"] == "ok"
    # A flood is not written to the history: only the three wrong PINs are.
    assert await refusals("vault") == ["wrong pin"] * 3


async def test_right_pins_cost_no_attempt(settings: Any) -> None:
    settings.VIDEOROOM_LIMITS = dataclasses.replace(
        django_settings.VIDEOROOM_LIMITS, failed_attempts_per_minute_per_address_room=1
    )
    await make_room("office", JoinPolicy.PIN, pin="1234")
    for _ in range(3):
        reply = await join("office", {"pin": "1234"}, address="10.1.0.3")
        assert reply[4]["status"] == "ok", reply


# --- token -----------------------------------------------------------------------------


async def test_a_token_room_admits_a_valid_token_with_its_grants_and_name(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    await make_room("embed", JoinPolicy.TOKEN)
    token = tokens.issue(
        "embed", "user-42", display_name="Dr. Ada", grants=[Grant.SUBSCRIBE], ttl=60
    )
    client = await connected()
    reply = await client.join("room:embed", {"displayName": "Mallory", "token": token})
    assert reply[4]["status"] == "ok", reply
    assert reply[4]["response"]["grants"] == ["subscribe"]
    [peer] = fake_rooms["embed"].peers
    assert peer.display_name == "Dr. Ada"
    assert peer.grants == frozenset({Grant.SUBSCRIBE})
    await client.close()


async def test_a_token_room_refuses_missing_tampered_expired_and_other_room_tokens() -> None:
    await make_room("embed", JoinPolicy.TOKEN)
    good = tokens.issue("embed", "user-1", ttl=60)
    payload, _, signature = good.rpartition(":")
    tampered = f"{payload}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    expired = tokens.issue("embed", "user-1", ttl=60, now=0)
    elsewhere = tokens.issue("other", "user-1", ttl=60)
    assert (await join("embed", {}))[4] == refused("token required")
    assert (await join("embed", {"token": tampered}))[4] == refused("token invalid")
    assert (await join("embed", {"token": "not-a-token"}))[4] == refused("token invalid")
    assert (await join("embed", {"token": expired}))[4] == refused("token expired")
    assert (await join("embed", {"token": elsewhere}))[4] == refused("token for another room")
    assert (await join("embed", {"token": good}))[4]["status"] == "ok"
    expected = ["token required", "token invalid", "token invalid", "token expired"]
    assert await refusals("embed") == sorted([*expected, "token for another room"])


async def test_a_valid_token_creates_its_room_when_auto_creation_is_off(settings: Any) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "AUTO_CREATE_ROOMS": False}
    assert (await join("fresh", {}))[4] == refused("room not found")
    assert (await join("fresh", {"token": "forged"}))[4] == refused("token invalid")
    assert not await Room.objects.filter(name="fresh").aexists()
    token = tokens.issue("fresh", "host-app", ttl=60)
    assert (await join("fresh", {"token": token}))[4]["status"] == "ok"
    room = await Room.objects.aget(name="fresh")
    assert room.join_policy == JoinPolicy.TOKEN


async def test_a_moderator_token_brings_the_moderate_grant() -> None:
    token = tokens.issue("embed", "boss", grants=[*Grant], ttl=60)
    reply = await join("embed", {"token": token})
    assert reply[4]["response"]["grants"] == ["moderate", "publish", "subscribe"]


# --- users -----------------------------------------------------------------------------


@sync_to_async
def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"


@sync_to_async
def users_room() -> tuple[Room, User, User, User, User]:
    room = Room.objects.create(name="staff", join_policy=JoinPolicy.USERS)
    listed = User.objects.create_user("listed", password="x")
    member = User.objects.create_user("member", password="x")
    stranger = User.objects.create_user("stranger", password="x")
    boss = User.objects.create_user("boss", password="x")
    group = Group.objects.create(name="team")
    member.groups.add(group)
    room.allowed_users.add(listed)
    room.allowed_groups.add(group)
    room.moderators.add(boss)
    return room, listed, member, stranger, boss


async def test_a_users_room_refuses_anonymous_and_strangers_and_admits_its_users() -> None:
    _, listed, member, stranger, boss = await users_room()
    assert (await join("staff", {}))[4] == refused("login required")
    reply = await join("staff", {}, cookie=await session_cookie(stranger))
    assert reply[4] == refused("not allowed")
    for user in (listed, member):
        reply = await join("staff", {}, cookie=await session_cookie(user))
        assert reply[4]["status"] == "ok", (user, reply)
        assert reply[4]["response"]["grants"] == ["publish", "subscribe"]
    reply = await join("staff", {}, cookie=await session_cookie(boss))
    assert reply[4]["response"]["grants"] == ["moderate", "publish", "subscribe"]
    assert await refusals("staff") == ["login required", "not allowed"]


async def test_the_global_join_permission_admits_a_user_to_every_users_room() -> None:
    _, _, _, stranger, _ = await users_room()

    @sync_to_async
    def grant() -> None:
        stranger.user_permissions.add(Permission.objects.get(codename="join_any_room"))

    await grant()
    reply = await join("staff", {}, cookie=await session_cookie(stranger))
    assert reply[4]["status"] == "ok", reply


# --- room creation and TURN ------------------------------------------------------------


async def test_rooms_created_per_address_are_bounded(settings: Any) -> None:
    settings.VIDEOROOM_LIMITS = dataclasses.replace(
        django_settings.VIDEOROOM_LIMITS, rooms_created_per_minute_per_address=2
    )
    assert (await join("new-1", {}, address="10.2.0.1"))[4]["status"] == "ok"
    assert (await join("new-2", {}, address="10.2.0.1"))[4]["status"] == "ok"
    assert (await join("new-3", {}, address="10.2.0.1"))[4] == refused("too many new rooms")
    # Existing rooms stay open to that address; other addresses may still create.
    assert (await join("new-1", {}, address="10.2.0.1"))[4]["status"] == "ok"
    assert (await join("new-3", {}, address="10.2.0.2"))[4]["status"] == "ok"


async def test_turn_credentials_go_to_admitted_peers_only_name_the_peer_and_expire(
    settings: Any,
) -> None:
    settings.VIDEOROOM_MEDIA = MediaConfig(
        turn_urls=("turn:turn.example.org:3478",), turn_secret="s3cret"
    )
    await make_room("board", JoinPolicy.PIN, pin="1234")
    assert (await join("board", {}))[4] == refused("pin required")  # no iceServers at all
    reply = await join("board", {"pin": "1234"})
    response = reply[4]["response"]
    [turn] = response["iceServers"]
    expiry, _, peer = turn["username"].partition(":")
    assert peer == response["peerId"]
    lifetime = int(expiry) - int(time.time())
    assert 7200 - 60 <= lifetime <= 7200
