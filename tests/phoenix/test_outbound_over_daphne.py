"""What daphne sends to clients that stop reading or just closed, over a real daphne.

Started by the project's launcher (``rooms.web.serve``), in the embedded default with
the SFU Room. Members that stop reading (their client stops reading the TCP socket,
whose receive buffer is made small) while another floods the room with large
``updateEndpointMetadata`` events (each pushed to every other member as
``endpointUpdated``) are closed with 4013, and daphne's memory stays bounded; without
the bound every push to them would queue in daphne. Members that close with data
still queued make daphne refuse sends for a while, which logs no error.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.typing import Origin as WsOrigin
from websockets.uri import parse_uri

from rooms.phoenix import CloseCode
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne

WAIT_SECONDS = 30.0
TOPIC = "room:sleepers"
SEND_BUFFER_BYTES = 1024 * 1024
METADATA_BYTES = 200 * 1024
# The talker's updates: within the socket's 100-frame burst, ~18 MB for each sleeper.
UPDATES = 90
# Three sleepers at the bound, plus frames in flight, Python overhead and allocator slack.
RSS_GROWTH_LIMIT = 40 * 1024 * 1024


def start_server(
    tmp_path_factory: pytest.TempPathFactory, send_buffer_bytes: int
) -> Iterator[DaphneServer]:
    workdir = tmp_path_factory.mktemp("send-buffer")
    env = embedded_env(
        workdir / "db.sqlite3",
        VIDEOROOM_LIMIT_SOCKET_SEND_BUFFER_BYTES=str(send_buffer_bytes),
        # Room-side bounds that would stop the talker first (where enforced).
        VIDEOROOM_LIMIT_ENDPOINT_METADATA_BYTES=str(2 * METADATA_BYTES),
        VIDEOROOM_LIMIT_MEDIA_EVENT_BURST="1000",
        VIDEOROOM_LIMIT_MEDIA_EVENTS_PER_SECOND="1000",
    )
    manage(env, "migrate", "--noinput")
    with running_daphne(env, workdir / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    yield from start_server(tmp_path_factory, SEND_BUFFER_BYTES)


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    """A send-buffer bound far above what the tests queue."""
    yield from start_server(tmp_path_factory, 256 * SEND_BUFFER_BYTES)


def media_event(event: dict[str, Any]) -> dict[str, str]:
    return {"data": json.dumps(event)}


async def open_member(server: DaphneServer, name: str, *, sleeper: bool) -> ClientConnection:
    """A member joined to TOPIC and connected (visible to the others)."""
    sock = None
    if sleeper:
        # A small receive buffer, so that the kernel holds little of what is not read.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    connection = await connect(
        f"{server.socket_url}/websocket?vsn=2.0.0",
        origin=server.origin,  # type: ignore[arg-type]
        proxy=None,
        sock=sock,
        open_timeout=WAIT_SECONDS,
        # The client library stops reading the socket once one message waits unread.
        max_queue=1,
        max_size=None,
    )
    await connection.send(json.dumps(["1", "1", TOPIC, "phx_join", {"displayName": name}]))
    reply = json.loads(await asyncio.wait_for(connection.recv(), WAIT_SECONDS))
    assert reply[3] == "phx_reply" and reply[4]["status"] == "ok", reply
    connect_event = {"type": "connect", "data": {"metadata": {"displayName": name}}}
    await connection.send(json.dumps(["1", "2", TOPIC, "mediaEvent", media_event(connect_event)]))
    return connection


async def removed_endpoints(talker: ClientConnection, count: int) -> None:
    """Read the talker's frames until ``count`` endpointRemoved events have arrived."""
    seen = 0
    while seen < count:
        frame = json.loads(await talker.recv())
        if frame[3] == "mediaEvent" and json.loads(frame[4]["data"])["type"] == "endpointRemoved":
            seen += 1


async def close_code(connection: ClientConnection) -> int | None:
    """Read everything that was queued; the code of the server's close frame."""
    try:
        while True:
            await connection.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def test_members_that_stop_reading_are_closed_and_daphne_stays_bounded(
    server: DaphneServer,
) -> None:
    daphne = psutil.Process(server.process.pid)
    sleepers = [await open_member(server, f"sleeper{n}", sleeper=True) for n in range(3)]
    talker = await open_member(server, "talker", sleeper=False)
    rss_before = daphne.memory_info().rss

    reader = asyncio.create_task(removed_endpoints(talker, 3))
    for n in range(UPDATES):
        if reader.done():
            break
        metadata = {"displayName": "talker", "blob": str(n % 10) * METADATA_BYTES}
        update = {"type": "updateEndpointMetadata", "data": {"metadata": metadata}}
        await talker.send(json.dumps(["1", str(n + 3), TOPIC, "mediaEvent", media_event(update)]))
        await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(reader, WAIT_SECONDS)
    except TimeoutError:
        pytest.fail(f"the sleepers were not removed from the room\n{server.log()}")
    rss_after = daphne.memory_info().rss

    codes = await asyncio.gather(*(close_code(s) for s in sleepers))
    assert codes == [CloseCode.SEND_BUFFER_FULL] * 3, server.log()
    growth = rss_after - rss_before
    print(f"daphne RSS {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB")
    assert growth < RSS_GROWTH_LIMIT, f"daphne grew by {growth / 2**20:.1f} MiB"
    assert "Traceback" not in server.log(100_000), server.log()
    await talker.close()


class RawMember:
    """A websocket client over a plain socket (websockets' sans-I/O protocol), which
    reads only when told to: after its close frame it never reads again."""

    def __init__(self, server: DaphneServer) -> None:
        self.server = server
        self.protocol = ClientProtocol(
            parse_uri(f"{server.socket_url}/websocket?vsn=2.0.0"),
            origin=WsOrigin(server.origin),
            max_size=None,
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)

    async def open(self, name: str) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.server.port))
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while self.protocol.state is State.CONNECTING:
            self.protocol.receive_data(await loop.sock_recv(self.sock, 65536))
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc
        await self.send(["1", "1", TOPIC, "phx_join", {"displayName": name}])
        reply = await self.receive()
        assert reply[3] == "phx_reply" and reply[4]["status"] == "ok", reply
        connect_event = {"type": "connect", "data": {"metadata": {"displayName": name}}}
        await self.send(["1", "2", TOPIC, "mediaEvent", media_event(connect_event)])

    async def send(self, frame: list[Any]) -> None:
        self.protocol.send_text(json.dumps(frame).encode())
        await self._flush()

    async def receive(self) -> list[Any]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                for event in self.protocol.events_received():
                    if isinstance(event, WsFrame) and event.opcode is Opcode.TEXT:
                        frame: list[Any] = json.loads(event.data)
                        return frame
                self.protocol.receive_data(await loop.sock_recv(self.sock, 65536))

    async def send_close(self) -> None:
        self.protocol.send_close(1000)
        await self._flush()

    def abort(self) -> None:
        self.sock.close()

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        for data in self.protocol.data_to_send():
            await loop.sock_sendall(self.sock, data)


async def test_pushes_to_members_that_just_closed_log_no_error(
    roomy_server: DaphneServer,
) -> None:
    """Members close while the room keeps pushing to them. From the client's close frame
    until daphne has written what it queued before (here never: the client does not
    read), daphne refuses sends (autobahn's Disconnected) and has not yet told the
    consumer that the connection is gone. Those sends are a debug line each."""
    server = roomy_server
    talker = await open_member(server, "talker2", sleeper=False)
    log_start = len(server.log(10**9))
    leavers = [RawMember(server) for _ in range(3)]
    for n, leaver in enumerate(leavers):
        await leaver.open(f"leaver{n}")
    for n in range(40):
        # ~4 MB queued for each leaver before it closes: more than the kernel holds.
        metadata = {"displayName": "talker2", "blob": "x" * (200 * 1024 if n < 20 else 1024)}
        update = {"type": "updateEndpointMetadata", "data": {"metadata": metadata}}
        await talker.send(json.dumps(["1", str(n), TOPIC, "mediaEvent", media_event(update)]))
        if n == 20:
            await asyncio.sleep(0.5)
            for leaver in leavers:
                await leaver.send_close()
        await asyncio.sleep(0.03)
    await asyncio.sleep(1.0)
    log = server.log(10**9)[log_start:]
    for leaver in leavers:
        leaver.abort()
    await talker.close()
    assert " ERROR " not in log and "Traceback" not in log, log[-8000:]
