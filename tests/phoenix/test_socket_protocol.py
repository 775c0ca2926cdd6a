"""The Phoenix V2 protocol at /socket/websocket, without joining a room: connect, heartbeat,
topics that are not joined, and the idle timeout."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from rooms.phoenix import CloseCode
from tests.phoenix.client import PhoenixTestClient
from videoroom_project.asgi import application

# The consumer closes old DB connections on every message, as Channels does.
pytestmark = pytest.mark.django_db(transaction=True)


async def connected(query: str = "vsn=2.0.0") -> PhoenixTestClient:
    client = PhoenixTestClient(query)
    assert (await client.connect())[0]
    return client


async def test_heartbeat_is_answered_ok_on_the_phoenix_topic() -> None:
    client = await connected()
    await client.send([None, "7", "phoenix", "heartbeat", {}])
    assert await client.receive() == [
        None,
        "7",
        "phoenix",
        "phx_reply",
        {"status": "ok", "response": {}},
    ]
    await client.close()


@pytest.mark.parametrize("query", ["vsn=1.0.0", "vsn=3.0.0", "", "vsn=2.0.0x"])
async def test_connect_with_an_unsupported_vsn_is_refused(query: str) -> None:
    client = PhoenixTestClient(query)
    connected_ok, code = await client.connect()
    assert not connected_ok
    assert code == CloseCode.UNSUPPORTED_VSN


async def test_connect_from_a_foreign_origin_is_refused() -> None:
    client = PhoenixTestClient(origin=b"http://evil.example")
    connected_ok, _ = await client.connect()
    assert not connected_ok


async def test_a_frame_for_a_topic_not_joined_gets_unmatched_topic() -> None:
    client = await connected()
    await client.send(["1", "2", "room:alpha", "mediaEvent", {"data": "{}"}])
    assert await client.receive() == [
        "1",
        "2",
        "room:alpha",
        "phx_reply",
        {"status": "error", "response": {"reason": "unmatched topic"}},
    ]
    await client.close()


async def test_leaving_a_topic_not_joined_is_answered_ok_as_phoenix_does() -> None:
    client = await connected()
    await client.send(["1", "2", "room:alpha", "phx_leave", {}])
    assert await client.receive() == [
        "1",
        "2",
        "room:alpha",
        "phx_reply",
        {"status": "ok", "response": {}},
    ]
    assert await client.nothing_more()
    await client.close()


async def test_joining_a_topic_without_a_channel_gets_unmatched_topic() -> None:
    client = await connected()
    reply = await client.join("lobby:main", {})
    assert reply[4] == {"status": "error", "response": {"reason": "unmatched topic"}}
    await client.close()


async def test_unknown_event_on_the_phoenix_topic_gets_an_error_reply() -> None:
    client = await connected()
    await client.send([None, "4", "phoenix", "shout", {}])
    assert (await client.receive())[4] == {
        "status": "error",
        "response": {"reason": "unknown event"},
    }
    await client.close()


@pytest.mark.parametrize(
    ("topic", "params", "reason"),
    [
        ("room:bad name", {"displayName": "Ann"}, "invalid room name"),
        ("room:" + "a" * 65, {"displayName": "Ann"}, "invalid room name"),
        ("room:alpha", {"displayName": 7}, "invalid params"),
        ("room:alpha", {"displayName": " "}, "invalid params"),
        ("room:alpha", {"displayName": "Ann", "metadata": "x"}, "invalid params"),
    ],
)
async def test_join_with_a_bad_topic_or_params_gets_its_reason(
    topic: str, params: dict[str, Any], reason: str
) -> None:
    client = await connected()
    reply = await client.join(topic, params)
    assert reply[4] == {"status": "error", "response": {"reason": reason}}
    # The refused topic is not joined.
    ref = await client.push(topic, "mediaEvent", {"data": "{}"})
    assert (await client.receive())[1:5] == [
        ref,
        topic,
        "phx_reply",
        {"status": "error", "response": {"reason": "unmatched topic"}},
    ]
    await client.close()


async def test_a_silent_socket_is_closed_after_the_idle_timeout(settings: Any) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "SOCKET_IDLE_TIMEOUT_SECONDS": 1.0}
    client = await connected()
    assert await client.receive_close_code() == CloseCode.IDLE_TIMEOUT
    await client.close()


async def test_heartbeats_keep_a_socket_open_past_the_idle_timeout(settings: Any) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "SOCKET_IDLE_TIMEOUT_SECONDS": 3.0}
    client = await connected()
    # 5 x 1 s of silence between heartbeats: well past 3 s in all, never 3 s at once.
    for ref in range(6):
        await client.send([None, str(ref), "phoenix", "heartbeat", {}])
        assert (await client.receive())[3] == "phx_reply"
        assert await client.nothing_more(1.0)
    await client.close()


async def test_the_phoenix_subprotocol_of_the_1_8_client_is_accepted() -> None:
    communicator = WebsocketCommunicator(
        application,
        "/socket/websocket?vsn=2.0.0",
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
        subprotocols=["phoenix", "base64url.bearer.phx.dG9rZW4"],
    )
    connected_ok, subprotocol = await communicator.connect(timeout=20)
    assert connected_ok
    assert subprotocol == "phoenix"
    await communicator.disconnect(timeout=20)


@pytest.mark.parametrize(
    "origin", [b"http://localhost:8001", b"https://localhost:8000", b"http://evil.example:8000"]
)
async def test_connect_from_another_scheme_or_port_is_refused_with_its_code(origin: bytes) -> None:
    client = PhoenixTestClient(headers=[(b"host", b"localhost:8000"), (b"origin", origin)])
    assert await client.connect() == (False, CloseCode.ORIGIN_REFUSED)


async def test_connect_from_the_same_origin_or_without_origin_is_accepted() -> None:
    for headers in (
        [(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")],
        [(b"host", b"localhost:8000")],
    ):
        client = PhoenixTestClient(headers=headers)
        assert (await client.connect())[0]
        await client.close()


async def test_listed_origins_are_the_only_ones_accepted(settings: Any) -> None:
    settings.VIDEOROOM_ALLOWED_ORIGINS = ("https://meet.example.com:443",)
    listed = PhoenixTestClient(
        headers=[(b"host", b"10.0.0.5:8000"), (b"origin", b"https://meet.example.com")]
    )
    assert (await listed.connect())[0]
    await listed.close()
    same_origin = PhoenixTestClient(
        headers=[(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")]
    )
    assert (await same_origin.connect()) == (False, CloseCode.ORIGIN_REFUSED)
