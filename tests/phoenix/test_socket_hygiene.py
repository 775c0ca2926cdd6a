"""What the socket writes: strict JSON only, short and rate-limited logs, quiet closes.

Also its timers: they post a message to the consumer and run nothing themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

import pytest
from autobahn.exception import Disconnected
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from rooms.layers import LayerUnavailable
from rooms.phoenix import CloseCode, JoinResult, Payload, PhoenixSocket
from rooms.phoenix.channel import Channel
from rooms.phoenix.idle import IdleClock
from rooms.phoenix.logbudget import WARNINGS_PER_WINDOW
from rooms.phoenix.timers import Timers

# The consumer closes old DB connections on every message, as Channels does.
pytestmark = pytest.mark.django_db(transaction=True)

handled_in: list[tuple[str, str | None]] = []


class TimedChannel(Channel):
    """Pushes what it is told to; "later" asks for a timer, "cancel" cancels it."""

    async def join(self, params: Payload) -> JoinResult:
        self.joined_in = asyncio.current_task()
        self.timer: int | None = None
        return {"channel": self.channel_name}

    async def handle_in(self, event: str, payload: Payload) -> Payload | None:
        if event == "later":
            self.timer = self.send_after(payload["seconds"], {"type": "test.tick", "n": 1})
            return {}
        if event == "cancel":
            self.cancel_timer(self.timer)
            return {}
        if event == "push":
            await self.push("data", payload)
            return None
        return await super().handle_in(event, payload)

    async def handle_info(self, message: dict[str, Any]) -> None:
        task = asyncio.current_task()
        handled_in.append((message["type"], task.get_name() if task else None))
        if message["type"] == "test.tick":
            same = task is self.joined_in
            await self.push("tick", {"same_task": same})
        elif message["type"] == "test.push":
            await self.push("data", message["payload"])


class TimedSocket(PhoenixSocket):
    channels: ClassVar[dict[str, type[Channel]]] = {"t:*": TimedChannel}

    def topic_for_message(self, message: dict[str, Any]) -> str | None:
        return "t:a" if message.get("type", "").startswith("test.") else None


async def connected() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(TimedSocket.as_asgi(), "/socket/websocket?vsn=2.0.0")
    assert (await communicator.connect(timeout=20))[0]
    return communicator


async def send(communicator: WebsocketCommunicator, frame: list[Any]) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def receive(communicator: WebsocketCommunicator) -> list[Any]:
    frame: list[Any] = json.loads(await communicator.receive_from(timeout=20))
    return frame


async def joined() -> tuple[WebsocketCommunicator, str]:
    communicator = await connected()
    await send(communicator, ["1", "1", "t:a", "phx_join", {}])
    reply = await receive(communicator)
    return communicator, reply[4]["response"]["channel"]


# --- strict JSON at the socket ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['["1","2","t:a","push",{"x":NaN}]', '["1","2","t:a","push",{"x":"\\ud800"}]'],
)
async def test_non_strict_json_with_a_ref_gets_an_invalid_frame_reply(text: str) -> None:
    communicator, _ = await joined()
    await communicator.send_to(text_data=text)
    reply = await receive(communicator)
    assert reply == [
        "1",
        "2",
        "t:a",
        "phx_reply",
        {"status": "error", "response": {"reason": "invalid frame"}},
    ]
    await communicator.disconnect()


@pytest.mark.parametrize("text", ["[NaN]", '["1","\\udc00","t:a","push",{}]', "[Infinity"])
async def test_non_strict_json_without_a_ref_closes_as_invalid_frame(text: str) -> None:
    communicator = await connected()
    await communicator.send_to(text_data=text)
    assert (await communicator.receive_output(20))["code"] == CloseCode.INVALID_FRAME
    await communicator.disconnect()


async def test_a_payload_that_is_not_strict_json_is_not_sent_and_the_socket_lives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    communicator, channel_name = await joined()
    layer = get_channel_layer()
    for payload in ({"x": float("nan")}, {"x": float("inf")}):
        await layer.send(channel_name, {"type": "test.push", "payload": payload})
    await send(communicator, ["1", "3", "t:a", "push", {"fine": True}])
    assert await receive(communicator) == ["1", None, "t:a", "data", {"fine": True}]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "not sending data" in errors[0].getMessage()
    await communicator.disconnect()


# --- a push to a socket that just closed -------------------------------------------


async def test_a_push_to_a_socket_the_client_just_closed_is_a_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Daphne raises autobahn's Disconnected on a send between the client's close and
    the websocket.disconnect message; that send must not log errors or close with 4011."""
    caplog.set_level(logging.DEBUG, logger="rooms.phoenix")
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: list[dict[str, Any]] = []
    gone = False

    async def server_send(message: dict[str, Any]) -> None:
        if gone:
            raise Disconnected("Attempt to send on a closed protocol")
        outbox.append(message)

    scope = {
        "type": "websocket",
        "path": "/socket/websocket",
        "query_string": b"vsn=2.0.0",
        "headers": [],
        "subprotocols": [],
    }
    app = asyncio.create_task(TimedSocket.as_asgi()(scope, inbox.get, server_send))
    await inbox.put({"type": "websocket.connect"})
    await inbox.put({"type": "websocket.receive", "text": '["1","1","t:a","phx_join",{}]'})
    while len(outbox) < 2:
        await asyncio.sleep(0.01)
    channel_name = json.loads(outbox[1]["text"])[4]["response"]["channel"]

    gone = True
    layer = get_channel_layer()
    await layer.send(channel_name, {"type": "test.push", "payload": {"late": True}})
    await layer.send(channel_name, {"type": "test.push", "payload": {"later": True}})
    await asyncio.sleep(0.3)
    await inbox.put({"type": "websocket.disconnect", "code": 1001})
    await asyncio.wait_for(app, 20)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("not sent, connection closing" in r.getMessage() for r in caplog.records)


# --- logs --------------------------------------------------------------------------

BIG = 900 * 1024


@pytest.mark.parametrize(
    "text",
    [
        "x" * BIG,  # not JSON
        json.dumps(["1", "2", "t:a", "e" * BIG, {}]),  # an event far too long
        json.dumps(["1", "2", "t:a", "push", {"x": 1}, "y" * BIG]),  # six elements
        json.dumps(["1", "2", "u:nope", "phx_join", {"pad": "z" * BIG}]),  # no such topic
        json.dumps(["1", "2\n3", "t:a\nINFO forged line", "nope", {"pad": "z" * BIG}]),
    ],
)
async def test_one_bad_frame_writes_one_short_log_line_without_newlines(
    text: str, caplog: pytest.LogCaptureFixture
) -> None:
    communicator, _ = await joined()
    caplog.clear()
    await communicator.send_to(text_data=text)
    await communicator.receive_output(20)
    await communicator.disconnect()
    written = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert written, "the bad frame was not logged"
    assert sum(len(line) for line in written) <= 1024, written
    assert not any("\n" in line or "\r" in line for line in written), written


async def test_a_socket_repeating_bad_frames_gets_its_warnings_counted_not_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    communicator, _ = await joined()
    caplog.clear()
    for ref in range(40):
        await send(communicator, ["1", str(ref), "t:a", "nope", {}])
        await receive(communicator)
    await communicator.disconnect()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == WARNINGS_PER_WINDOW + 1, warnings
    assert warnings[-1].endswith(f"suppressed {40 - WARNINGS_PER_WINDOW} more warnings")


# --- timers ------------------------------------------------------------------------


async def test_a_channel_timer_comes_back_through_the_dispatch_loop() -> None:
    handled_in.clear()
    communicator, _ = await joined()
    await send(communicator, ["1", "2", "t:a", "later", {"seconds": 0.05}])
    assert (await receive(communicator))[3] == "phx_reply"
    assert await receive(communicator) == ["1", None, "t:a", "tick", {"same_task": True}]
    await communicator.disconnect()


async def test_a_timer_cancelled_after_posting_its_message_is_not_handed_over() -> None:
    posted: list[dict[str, Any]] = []

    async def post(message: dict[str, Any]) -> None:
        posted.append(message)

    timers: Timers[str] = Timers(post)
    kept, cancelled = timers.start(0.0, "kept"), timers.start(0.0, "cancelled")
    await asyncio.sleep(0.05)
    assert [m["id"] for m in posted] == [kept, cancelled]
    timers.cancel(cancelled)
    assert [timers.fired(m) for m in posted] == ["kept", None]
    assert timers.fired(posted[0]) is None  # once only
    assert len(timers) == 0


async def test_closing_the_timers_cancels_what_has_not_fired() -> None:
    posted: list[dict[str, Any]] = []

    async def post(message: dict[str, Any]) -> None:
        posted.append(message)

    timers: Timers[str] = Timers(post)
    timers.start(0.05, "never")
    await timers.close()
    await asyncio.sleep(0.1)
    assert posted == []


async def test_a_timer_posts_its_message_once_the_layer_is_reachable_again() -> None:
    posted: list[dict[str, Any]] = []
    failures = [LayerUnavailable("channel layer send: Error 111")] * 2

    async def post(message: dict[str, Any]) -> None:
        if failures:
            raise failures.pop()
        posted.append(message)

    timers: Timers[str] = Timers(post, unavailable=(LayerUnavailable,))
    timer_id = timers.start(0.0, "late")
    await asyncio.sleep(0.5)  # 0.1 s, then 0.2 s of backoff
    assert [timers.fired(m) for m in posted] == ["late"]
    assert posted[0]["id"] == timer_id


async def test_a_timer_message_for_no_live_timer_is_dropped() -> None:
    """Not taken for the idle check: that would start a second idle timer chain."""
    socket = TimedSocket()
    socket._idle = IdleClock(60.0)
    await socket.phoenix_timer({"type": "phoenix.timer", "id": 12345})
    assert len(socket._timers) == 0
    await socket._timers.close()
