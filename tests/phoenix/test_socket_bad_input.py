"""Every kind of bad input on /socket/websocket gets an error reply or a named close code."""

from __future__ import annotations

import json

import pytest

from rooms.phoenix import CloseCode
from rooms.web.sockets import UserSocket
from tests.phoenix.client import PhoenixTestClient, heartbeat_of

# The consumer closes old DB connections on every message, as Channels does.
pytestmark = pytest.mark.django_db(transaction=True)


async def connected() -> PhoenixTestClient:
    client = PhoenixTestClient()
    assert (await client.connect())[0]
    return client


@pytest.mark.parametrize("text", ["not json", "{}", "[]", '[null, 5, "phoenix", "heartbeat", {}]'])
async def test_a_frame_without_a_usable_ref_closes_the_socket_as_invalid(text: str) -> None:
    client = await connected()
    await client.send_text(text)
    assert await client.receive_close_code() == CloseCode.INVALID_FRAME
    await client.close()


@pytest.mark.parametrize(
    "frame",
    [
        ["1", "2", "room:alpha", "phx_join"],
        ["1", "2", "room:alpha", "phx_join", {}, "extra"],
        ["1", "2", "room:alpha", "phx_join", ["not", "an", "object"]],
        ["1", "2", "room:alpha", 42, {}],
    ],
)
async def test_a_malformed_frame_with_a_ref_gets_an_invalid_frame_reply(frame: list) -> None:
    client = await connected()
    await client.send(frame)
    assert await client.receive() == [
        "1",
        "2",
        "room:alpha",
        "phx_reply",
        {"status": "error", "response": {"reason": "invalid frame"}},
    ]
    # The socket is still usable.
    await client.send([None, "3", "phoenix", "heartbeat", {}])
    assert (await client.receive())[1] == "3"
    await client.close()


async def test_a_frame_of_exactly_the_size_limit_is_answered() -> None:
    client = await connected()
    await client.send(heartbeat_of(UserSocket.max_frame_bytes))
    assert (await client.receive())[1:4] == ["1", "phoenix", "phx_reply"]
    await client.close()


async def test_a_frame_over_the_size_limit_closes_the_socket_as_too_big() -> None:
    client = await connected()
    await client.send(heartbeat_of(UserSocket.max_frame_bytes + 1))
    assert await client.receive_close_code() == CloseCode.MESSAGE_TOO_BIG
    await client.close()


async def test_a_binary_frame_closes_the_socket_as_unsupported() -> None:
    client = await connected()
    await client.communicator.send_to(bytes_data=b"\x00\x01\x02")
    assert await client.receive_close_code() == CloseCode.UNSUPPORTED_DATA
    await client.close()


async def test_flooding_gets_rate_limited_replies_then_a_policy_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No refill, so that the outcome does not depend on how fast this machine is.
    monkeypatch.setattr(UserSocket, "flood_rate", 0.0)
    monkeypatch.setattr(UserSocket, "flood_burst", 5.0)
    monkeypatch.setattr(UserSocket, "flood_strikes", 3)
    client = await connected()
    for ref in range(12):
        await client.send([None, str(ref), "phoenix", "heartbeat", {}])
    replies = []
    while True:
        output = await client.communicator.receive_output(20)
        if output["type"] == "websocket.close":
            break
        replies.append(json.loads(output["text"])[4])
    assert (
        replies
        == [{"status": "ok", "response": {}}] * 5
        + [{"status": "error", "response": {"reason": "rate limited"}}] * 3
    )
    assert output["code"] == CloseCode.POLICY_VIOLATION
    await client.close()


@pytest.mark.parametrize("code", list(CloseCode))
def test_every_close_code_is_one_daphne_can_send(code: CloseCode) -> None:
    # autobahn's sendClose refuses anything else (RFC 6455 section 7.4.2).
    assert code == 1000 or 3000 <= code <= 4999
