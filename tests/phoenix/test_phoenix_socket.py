"""The generic PhoenixSocket with test channels: replies, crashes, pending joins, stop."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from rooms.phoenix import (
    JOIN_PENDING,
    Channel,
    JoinResult,
    Payload,
    PhoenixSocket,
    StopKind,
    TerminateReason,
)

# The consumer closes old DB connections on every message, as Channels does.
pytestmark = pytest.mark.django_db(transaction=True)

terminated: list[tuple[str, TerminateReason]] = []


class EchoChannel(Channel):
    """Replies to "echo", crashes on "boom", stops itself on layer messages."""

    async def join(self, params: Payload) -> JoinResult:
        if params.get("crash"):
            raise RuntimeError("join bug")
        if params.get("later"):
            return JOIN_PENDING
        if params.get("whoami"):
            return {"channel": self.channel_name}
        return {"joined": self.topic}

    async def handle_in(self, event: str, payload: Payload) -> Payload | None:
        if event == "echo":
            return payload
        if event == "boom":
            raise RuntimeError("handler bug")
        if event == "finish":
            await self.reply_join({"late": True})
            return None
        return await super().handle_in(event, payload)

    async def handle_info(self, message: dict[str, Any]) -> None:
        await self.stop(StopKind(message["kind"]))

    async def terminate(self, reason: TerminateReason) -> None:
        terminated.append((self.topic, reason))


class EchoSocket(PhoenixSocket):
    channels: ClassVar[dict[str, type[Channel]]] = {"echo:*": EchoChannel}
    max_channels = 2

    def topic_for_message(self, message: dict[str, Any]) -> str | None:
        topic = message.get("topic")
        return topic if isinstance(topic, str) else None


class Client:
    def __init__(self) -> None:
        self.communicator = WebsocketCommunicator(
            EchoSocket.as_asgi(), "/socket/websocket?vsn=2.0.0"
        )

    async def __aenter__(self) -> Client:
        assert (await self.communicator.connect(timeout=20))[0]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.communicator.disconnect(timeout=20)

    async def send(self, frame: list[Any]) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def receive(self) -> list[Any]:
        frame: list[Any] = json.loads(await self.communicator.receive_from(timeout=20))
        return frame


def ok(response: Payload) -> Payload:
    return {"status": "ok", "response": response}


def error(reason: str) -> Payload:
    return {"status": "error", "response": {"reason": reason}}


async def test_a_handler_reply_becomes_an_ok_reply_to_the_push() -> None:
    async with Client() as client:
        await client.send(["1", "1", "echo:a", "phx_join", {}])
        assert await client.receive() == ["1", "1", "echo:a", "phx_reply", ok({"joined": "echo:a"})]
        await client.send(["1", "2", "echo:a", "echo", {"x": 1}])
        assert await client.receive() == ["1", "2", "echo:a", "phx_reply", ok({"x": 1})]


async def test_a_crashing_handler_errors_its_channel_only() -> None:
    terminated.clear()
    async with Client() as client:
        await client.send(["1", "1", "echo:a", "phx_join", {}])
        await client.receive()
        await client.send(["1", "2", "echo:a", "boom", {}])
        assert await client.receive() == ["1", "1", "echo:a", "phx_error", {}]
        assert terminated == [("echo:a", TerminateReason.CRASHED)]
        await client.send([None, "3", "phoenix", "heartbeat", {}])
        assert (await client.receive())[4] == ok({})


async def test_a_crashing_join_is_answered_join_crashed() -> None:
    async with Client() as client:
        await client.send(["1", "1", "echo:a", "phx_join", {"crash": True}])
        assert await client.receive() == ["1", "1", "echo:a", "phx_reply", error("join crashed")]


async def test_frames_for_a_pending_join_get_join_pending() -> None:
    async with Client() as client:
        await client.send(["1", "1", "echo:a", "phx_join", {"later": True}])
        await client.send(["1", "2", "echo:a", "finish", {}])
        assert await client.receive() == ["1", "2", "echo:a", "phx_reply", error("join pending")]


async def test_the_channel_can_end_itself_with_close_or_error() -> None:
    terminated.clear()
    async with Client() as client:
        for ref, topic in (("1", "echo:a"), ("2", "echo:b")):
            await client.send([ref, ref, topic, "phx_join", {"whoami": True}])
            channel_name = (await client.receive())[4]["response"]["channel"]
        layer = get_channel_layer()
        await layer.send(channel_name, {"type": "test.stop", "topic": "echo:a", "kind": "close"})
        assert await client.receive() == ["1", "1", "echo:a", "phx_close", {}]
        await layer.send(channel_name, {"type": "test.stop", "topic": "echo:b", "kind": "error"})
        assert await client.receive() == ["2", "2", "echo:b", "phx_error", {}]
    assert terminated == [("echo:a", TerminateReason.STOPPED), ("echo:b", TerminateReason.STOPPED)]


async def test_joins_beyond_the_channel_limit_are_refused() -> None:
    async with Client() as client:
        for ref, topic in (("1", "echo:a"), ("2", "echo:b"), ("3", "echo:c")):
            await client.send([ref, ref, topic, "phx_join", {}])
        replies = [await client.receive() for _ in range(3)]
        assert replies[2] == ["3", "3", "echo:c", "phx_reply", error("too many channels")]


async def test_closing_the_socket_terminates_every_channel() -> None:
    terminated.clear()
    async with Client() as client:
        for ref, topic in (("1", "echo:a"), ("2", "echo:b")):
            await client.send([ref, ref, topic, "phx_join", {}])
            await client.receive()
    assert sorted(terminated) == [
        ("echo:a", TerminateReason.CLOSED),
        ("echo:b", TerminateReason.CLOSED),
    ]


async def test_a_stray_layer_message_is_dropped_and_the_socket_stays_usable() -> None:
    async with Client() as client:
        await client.send(["1", "1", "echo:a", "phx_join", {"whoami": True}])
        channel_name = (await client.receive())[4]["response"]["channel"]
        layer = get_channel_layer()
        await layer.send(channel_name, {"type": "nobody.handles_this"})
        await client.send(["1", "2", "echo:a", "echo", {"still": "here"}])
        assert await client.receive() == ["1", "2", "echo:a", "phx_reply", ok({"still": "here"})]
