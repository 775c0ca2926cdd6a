"""Joining rooms over /socket/websocket through the embedded worker, with FakeRooms.

Channel semantics (join, leave, several topics, duplicate joins, removal) without media;
test_socket_media.py runs the real Room.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.conf import settings as django_settings

from rooms import messages
from rooms.messages import RemovalReason
from rooms.models import Participation, Room
from tests.phoenix.client import PhoenixTestClient
from tests.worker.fake_room import FakeRoom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_rooms")]

OK = "ok"


async def connected() -> PhoenixTestClient:
    client = PhoenixTestClient()
    assert (await client.connect())[0]
    return client


async def eventually(predicate: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def left_with(peer_id: str, reason: str, timeout: float = 20.0) -> None:
    """Wait until the participation history records the peer's leave with ``reason``."""
    deadline = asyncio.get_running_loop().time() + timeout
    query = Participation.objects.filter(peer_id=peer_id, leave_reason=reason)
    while not await query.aexists():
        assert asyncio.get_running_loop().time() < deadline, f"{peer_id} did not leave ({reason})"
        await asyncio.sleep(0.05)


async def joined(client: PhoenixTestClient, topic: str, name: str = "Ann") -> str:
    reply = await client.join(topic, {"displayName": name})
    assert reply[4]["status"] == OK, reply
    peer_id: str = reply[4]["response"]["peerId"]
    return peer_id


async def test_join_replies_ok_with_peer_id_ice_servers_and_grants(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    client = await connected()
    reply = await client.join("room:alpha", {"displayName": "Ann", "isSimulcastOn": True})
    response = reply[4]["response"]
    assert reply[4]["status"] == OK
    assert set(response) == {"peerId", "iceServers", "grants"}
    assert response["grants"] == ["publish", "subscribe"]
    assert [p.peer_id for p in fake_rooms["alpha"].peers] == [response["peerId"]]
    assert fake_rooms["alpha"].peers[0].display_name == "Ann"
    await client.close()


async def test_media_events_reach_the_other_peer_as_pushes_with_its_join_ref() -> None:
    ann, bob = await connected(), await connected()
    await joined(ann, "room:alpha", "Ann")
    await joined(bob, "room:alpha", "Bob")

    await ann.push("room:alpha", "mediaEvent", {"data": '{"type":"custom"}'})

    push = await bob.receive_event("room:alpha", "mediaEvent")
    assert push == [
        bob.join_refs["room:alpha"],
        None,
        "room:alpha",
        "mediaEvent",
        {"data": '{"type":"custom"}'},
    ]
    # Media events get no reply, as in Membrane.
    assert await ann.nothing_more()
    await ann.close()
    await bob.close()


async def test_bad_media_event_and_unknown_event_get_error_replies() -> None:
    client = await connected()
    await joined(client, "room:alpha")
    ref = await client.push("room:alpha", "mediaEvent", {"data": 42})
    assert (await client.receive())[1:] == [
        ref,
        "room:alpha",
        "phx_reply",
        {"status": "error", "response": {"reason": "invalid payload"}},
    ]
    ref = await client.push("room:alpha", "shout", {})
    assert (await client.receive())[1:] == [
        ref,
        "room:alpha",
        "phx_reply",
        {"status": "error", "response": {"reason": "unknown event"}},
    ]
    await client.close()


async def test_leave_is_answered_then_closed_and_the_room_forgets_the_peer(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    client = await connected()
    peer_id = await joined(client, "room:alpha")
    join_ref = client.join_refs["room:alpha"]

    ref = await client.push("room:alpha", "phx_leave", {})

    assert await client.receive() == [
        join_ref,
        ref,
        "room:alpha",
        "phx_reply",
        {"status": "ok", "response": {}},
    ]
    assert await client.receive() == [join_ref, join_ref, "room:alpha", "phx_close", {}]
    await eventually(lambda: not fake_rooms["alpha"].peers)
    await left_with(peer_id, "left")
    await client.close()


async def test_closing_the_socket_removes_the_peer_as_disconnected(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    client = await connected()
    peer_id = await joined(client, "room:alpha")
    await client.close()
    await eventually(lambda: not fake_rooms["alpha"].peers)
    await left_with(peer_id, "disconnected")


async def test_one_socket_joins_several_topics(fake_rooms: dict[str, FakeRoom]) -> None:
    client = await connected()
    alpha = await joined(client, "room:alpha")
    beta = await joined(client, "room:beta")
    assert alpha != beta
    assert [p.peer_id for p in fake_rooms["beta"].peers] == [beta]
    assert [p.peer_id for p in fake_rooms["alpha"].peers] == [alpha]
    await client.close()


async def test_a_second_join_of_a_topic_closes_the_first_then_joins_anew(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    client = await connected()
    first = await joined(client, "room:alpha")
    old_ref = client.join_refs["room:alpha"]
    new_ref = client.next_ref()
    client.join_refs["room:alpha"] = new_ref

    await client.send([new_ref, new_ref, "room:alpha", "phx_join", {"displayName": "Ann"}])

    assert await client.receive() == [old_ref, old_ref, "room:alpha", "phx_close", {}]
    reply = await client.receive()
    assert reply[:4] == [new_ref, new_ref, "room:alpha", "phx_reply"]
    second = reply[4]["response"]["peerId"]
    await eventually(lambda: [p.peer_id for p in fake_rooms["alpha"].peers] == [second])
    await left_with(first, "replaced")
    # Pushes now carry the new join_ref.
    other = await connected()
    await joined(other, "room:alpha", "Bob")
    await other.push("room:alpha", "mediaEvent", {"data": "hi"})
    push = await client.receive_event("room:alpha", "mediaEvent")
    assert push[0] == new_ref
    await client.close()
    await other.close()


@pytest.mark.parametrize(
    ("reason", "event"),
    [(RemovalReason.KICKED, "phx_close"), (RemovalReason.WORKER_LOST, "phx_error")],
)
async def test_removal_by_the_server_ends_the_channel_with_close_or_error(
    reason: RemovalReason, event: str
) -> None:
    client = await connected()
    peer_id = await joined(client, "room:alpha")
    join_ref = client.join_refs["room:alpha"]
    layer = get_channel_layer()
    assert layer is not None
    # A stale message for an older peer of the same socket is ignored.
    await layer.group_send("room.alpha", messages.peer_removed("alpha", "old-peer", reason))
    await layer.group_send("room.alpha", messages.peer_removed("alpha", peer_id, reason))

    assert await client.receive() == [join_ref, join_ref, "room:alpha", event, {}]
    ref = await client.push("room:alpha", "mediaEvent", {"data": "{}"})
    assert (await client.receive())[4]["response"] == {"reason": "unmatched topic"}
    assert ref
    await client.close()


async def test_join_of_a_locked_room_is_refused() -> None:
    await Room.objects.acreate(name="alpha", locked=True)
    client = await connected()
    reply = await client.join("room:alpha", {"displayName": "Ann"})
    assert reply[4] == {"status": "error", "response": {"reason": "room locked"}}
    await client.close()


async def test_join_of_a_full_room_is_refused() -> None:
    await Room.objects.acreate(name="alpha", max_participants=1)
    ann, bob = await connected(), await connected()
    await joined(ann, "room:alpha")
    reply = await bob.join("room:alpha", {"displayName": "Bob"})
    assert reply[4] == {"status": "error", "response": {"reason": "room full"}}
    await ann.close()
    await bob.close()


async def test_join_of_an_unknown_room_is_refused_when_rooms_are_not_auto_created(
    settings: Any,
) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "AUTO_CREATE_ROOMS": False}
    client = await connected()
    reply = await client.join("room:nowhere", {"displayName": "Ann"})
    assert reply[4] == {"status": "error", "response": {"reason": "room not found"}}
    await client.close()


async def test_join_when_no_worker_answers_is_refused_as_unavailable(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "JOIN_TIMEOUT_SECONDS": 0.5}

    async def swallow(self: Any, message: dict[str, Any]) -> None:
        return None

    monkeypatch.setattr("rooms.worker.worker.RoomWorker._dispatch", swallow)
    client = await connected()
    reply = await client.join("room:alpha", {"displayName": "Ann"})
    assert reply[4] == {"status": "error", "response": {"reason": "room unavailable"}}
    await client.close()
