"""A Phoenix V2 client over a raw websocket that reads like a browser and can misbehave.

Every text the server sends is parsed as ``JSON.parse`` would (NaN and Infinity refused),
and so is the JSON string inside every ``mediaEvent``; a text that fails is kept in
``unparsable`` instead of raising, so a test can show what a browser would have choked on.
Each socket can come from its own loopback address (127.x.y.z): a bound per client
address then hits only the role that earned it, as with clients on different machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

Frame = list[Any]
OPEN_TIMEOUT_SECONDS = 20.0
_TCP_ESTABLISHED = 1  # tcpi_state in struct tcp_info (linux/tcp.h)


def strict_loads(text: str) -> Any:
    """``json.loads`` as strict as ``JSON.parse``: NaN, Infinity and -Infinity are errors."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


# Shared by every LoopbackAddresses of the process: a server's per-address counters outlive
# one test, so no address is handed out twice.
_ADDRESS_NUMBERS = itertools.count()


class LoopbackAddresses:
    """Distinct source addresses 127.77.<a>.<b> (never the server's 127.0.0.1), one per role."""

    def next(self) -> str:
        number = next(_ADDRESS_NUMBERS)
        return f"127.77.{number // 250 % 250}.{number % 250 + 1}"


@dataclass
class JoinReply:
    """A reply (to phx_join, or any request) and how long it took."""

    status: str  # "ok", "error"; "timeout" or "closed <code>" when no reply came
    response: dict[str, Any]
    seconds: float  # from sending the request to its reply, or to giving up


@dataclass
class Received:
    frames: list[Frame] = field(default_factory=list)
    media_events: list[tuple[str, Any]] = field(default_factory=list)  # (topic, event)
    unparsable: list[str] = field(default_factory=list)  # texts a browser cannot parse


class RawPhoenix:
    """One socket; frames are sent as given, replies are matched by ref."""

    def __init__(self, connection: ClientConnection, name: str) -> None:
        self.name = name
        self.connection = connection
        self.received = Received()
        self.join_refs: dict[str, str] = {}
        self.closed = asyncio.Event()
        self._refs = itertools.count(1)
        self._replies: dict[str, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._read(), name=f"raw-phoenix-{name}"
        )
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, socket_url: str, *, name: str, source: str, receive_buffer: int | None = None
    ) -> RawPhoenix:
        """Connect from ``source``; ``receive_buffer`` shrinks SO_RCVBUF (a slow reader)."""
        parts = urlsplit(socket_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if receive_buffer is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
                # The MSS of an Ethernet path, not loopback's 64 KiB: the server's kernel
                # then sizes its send buffer as over a real network (~10x smaller here),
                # so what the client does not read piles up where the server can see it.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
            sock.bind((source, 0))
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port)),
                OPEN_TIMEOUT_SECONDS,
            )
            connection = await connect(
                f"{socket_url}/websocket?vsn=2.0.0",
                sock=sock,
                origin=Origin(f"http://{parts.netloc}"),
                proxy=None,
                open_timeout=OPEN_TIMEOUT_SECONDS,
                ping_interval=None,
                max_size=None,
                # Stop reading from the transport after a few unread messages: with
                # pause() that is what a client that never reads looks like.
                max_queue=4,
            )
        except BaseException:
            sock.close()
            raise
        return cls(connection, name)

    def next_ref(self) -> str:
        return str(next(self._refs))

    # --- sending ----------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        await self.connection.send(text)

    async def send(self, frame: Frame) -> None:
        await self.connection.send(json.dumps(frame))

    async def request(
        self, frame: Frame | str, timeout: float, ref: str | None = None
    ) -> JoinReply:
        """Send ``frame`` (a str is sent as is, ``ref`` naming its ref) and wait for its reply;
        without one in ``timeout`` s the status is "timeout", or "closed <code>"."""
        if not isinstance(frame, str):
            ref = frame[1]
        assert ref is not None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[float, dict[str, Any]]] = loop.create_future()
        self._replies[ref] = future
        started = time.monotonic()
        closed = loop.create_task(self.closed.wait())
        either: list[asyncio.Future[Any]] = [future, closed]
        try:
            await (self.send_text(frame) if isinstance(frame, str) else self.send(frame))
            await asyncio.wait(either, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        except ConnectionClosed:
            pass
        finally:
            self._replies.pop(ref, None)
            closed.cancel()
        if future.done():
            arrived, payload = future.result()
            return JoinReply(
                str(payload.get("status")), payload.get("response") or {}, arrived - started
            )
        future.cancel()
        waited = time.monotonic() - started
        if self.closed.is_set() or self.connection.close_code is not None:
            return JoinReply(f"closed {self.connection.close_code}", {}, waited)
        return JoinReply("timeout", {}, waited)

    async def join(self, topic: str, params: dict[str, Any], timeout: float = 10.0) -> JoinReply:
        ref = self.next_ref()
        self.join_refs[topic] = ref
        return await self.request([ref, ref, topic, "phx_join", params], timeout)

    async def heartbeat(self, timeout: float = 10.0) -> float | None:
        """Round trip of one heartbeat in seconds, None if no reply came in ``timeout``."""
        reply = await self.request([None, self.next_ref(), "phoenix", "heartbeat", {}], timeout)
        return reply.seconds if reply.status == "ok" else None

    async def media_event(self, topic: str, event: dict[str, Any] | str) -> None:
        """Push a media event; a str is sent as the event's JSON text, unchecked."""
        data = event if isinstance(event, str) else json.dumps(event)
        await self.send(
            [self.join_refs[topic], self.next_ref(), topic, "mediaEvent", {"data": data}]
        )

    # --- receiving --------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                self._take(str(text))
                async with self._arrived:
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            async with self._arrived:
                self._arrived.notify_all()

    def _take(self, text: str) -> None:
        now = time.monotonic()
        received = self.received
        try:
            frame = strict_loads(text)
        except ValueError:
            received.unparsable.append(text)
            return
        received.frames.append(frame)
        if not (isinstance(frame, list) and len(frame) == 5 and isinstance(frame[4], dict)):
            return
        _join_ref, ref, topic, event, payload = frame
        if event == "phx_reply" and ref in self._replies and not self._replies[ref].done():
            self._replies[ref].set_result((now, payload))
        elif event == "mediaEvent" and isinstance(payload.get("data"), str):
            try:
                received.media_events.append((topic, strict_loads(payload["data"])))
            except ValueError:
                received.unparsable.append(payload["data"])

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds or the socket closes; whether it held."""
        with contextlib.suppress(TimeoutError):
            async with self._arrived:
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: predicate() or self.closed.is_set()), timeout
                )
        return predicate()

    def media_event_types(self, topic: str) -> list[str]:
        return [
            f"custom/{e['data']['type']}" if e.get("type") == "custom" else str(e.get("type"))
            for t, e in self.received.media_events
            if t == topic and isinstance(e, dict)
        ]

    def events(self, topic: str) -> list[str]:
        return [f[3] for f in self.received.frames if isinstance(f, list) and f[2:3] == [topic]]

    # --- not reading --------------------------------------------------------------------

    async def pause(self, heartbeat_every: float | None = None) -> None:
        """Stop reading: the client's buffers fill, then TCP stops the server's sends.

        With ``heartbeat_every`` the socket still sends a heartbeat that often, as a
        client that writes but never reads would, so the server's idle timeout does not
        end it.
        """
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        if heartbeat_every is not None:
            self._writer = asyncio.get_running_loop().create_task(
                self._heartbeats(heartbeat_every), name=f"raw-phoenix-beats-{self.name}"
            )

    async def _heartbeats(self, interval: float) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                await self.send([None, self.next_ref(), "phoenix", "heartbeat", {}])

    def tcp_established(self) -> bool:
        """Whether the kernel still holds this connection as established (no FIN, no RST)."""
        sock = self.connection.transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            return False
        return bool(struct.unpack_from("B", info)[0] == _TCP_ESTABLISHED)

    async def drain(self, timeout: float) -> int | None:
        """Read what is left until the server closes: its close code (1006 without a close
        frame), or None if it is still open after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.connection.recv()
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006
        except OSError:
            return 1006

    async def close(self) -> None:
        await self.pause()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.connection.close(), 2.0)
        self.connection.transport.abort()


class HeartbeatProbe:
    """Sends a heartbeat every ``interval`` seconds and keeps every round trip."""

    def __init__(self, phoenix: RawPhoenix, interval: float = 0.1) -> None:
        self._phoenix = phoenix
        self._interval = interval
        self._pending: list[tuple[float, asyncio.Task[float | None]]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._pending = []
        self._task = asyncio.get_running_loop().create_task(self._run(), name="heartbeats")
        return self._task

    async def _run(self) -> None:
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        for tick in itertools.count(1):
            sent = time.monotonic()
            self._pending.append((sent, loop.create_task(self._phoenix.heartbeat(timeout=30.0))))
            await asyncio.sleep(max(0.0, started + tick * self._interval - time.monotonic()))

    async def stop(self, grace: float = 5.0) -> list[float]:
        """Round trips in seconds; a heartbeat unanswered ``grace`` s after the stop counts
        as its age then, so a stalled server cannot hide in missing samples."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        tasks = [task for _, task in self._pending]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        now = time.monotonic()
        rtts = []
        for sent, task in self._pending:
            result = task.result() if task.done() and not task.cancelled() else None
            rtts.append(result if result is not None else now - sent)
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return rtts
