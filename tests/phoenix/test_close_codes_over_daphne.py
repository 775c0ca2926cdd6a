"""Bad input closes the socket with its named code over a real daphne, not just in-process.

Channels' WebsocketCommunicator passes any close code through; daphne (autobahn) sends
only 1000 and 3000-4999 and raises on the rest, which left such sockets open. One daphne
in the embedded default serves every case; a bystander socket joined to the same room
must stay usable after each misbehaving one is closed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.protocol import State

from rooms.phoenix import CloseCode
from rooms.web.sockets import UserSocket
from tests.phoenix.client import heartbeat_of
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne

# Generous: daphne and the embedded room worker share two cores with other tests.
WAIT_SECONDS = 20.0
TOPIC = "room:close-codes"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    workdir = tmp_path_factory.mktemp("close-codes")
    env = embedded_env(workdir / "db.sqlite3")
    manage(env, "migrate", "--noinput")
    with running_daphne(env, workdir / "daphne.log") as running:
        yield running


async def open_joined(server: DaphneServer, name: str) -> ClientConnection:
    """A socket joined to TOPIC as ``name``."""
    connection = await connect(
        f"{server.socket_url}/websocket?vsn=2.0.0",
        origin=server.origin,  # type: ignore[arg-type]  # a str is what the header carries
        proxy=None,
        open_timeout=WAIT_SECONDS,
    )
    await connection.send(json.dumps(["1", "1", TOPIC, "phx_join", {"displayName": name}]))
    reply = await receive(connection, server)
    assert reply[1:4] == ["1", TOPIC, "phx_reply"] and reply[4]["status"] == "ok", reply
    return connection


async def receive(connection: ClientConnection, server: DaphneServer) -> list[Any]:
    try:
        text = await asyncio.wait_for(connection.recv(), WAIT_SECONDS)
    except TimeoutError:
        pytest.fail(f"nothing received in {WAIT_SECONDS} s\n{server.log()}")
    frame: list[Any] = json.loads(text)
    return frame


async def close_frame(connection: ClientConnection, server: DaphneServer) -> Close:
    """The close frame the server sends next; frames sent before it are skipped."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                await connection.recv()
    except TimeoutError:
        pytest.fail(f"still open {WAIT_SECONDS} s after the bad input\n{server.log()}")
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, f"closed without a close frame\n{server.log()}"
        return closed.rcvd


async def assert_usable(connection: ClientConnection, server: DaphneServer, ref: str) -> None:
    await connection.send(json.dumps([None, ref, "phoenix", "heartbeat", {}]))
    reply = await receive(connection, server)
    assert reply == [None, ref, "phoenix", "phx_reply", {"status": "ok", "response": {}}], reply


BAD_INPUT: dict[str, tuple[str | bytes, CloseCode]] = {
    "binary frame": (b"\x00\x01\x02", CloseCode.UNSUPPORTED_DATA),
    # Just over the limit, which daphne's own limits must not cut first.
    "frame over the size limit": (
        json.dumps(heartbeat_of(UserSocket.max_frame_bytes + 1)),
        CloseCode.MESSAGE_TOO_BIG,
    ),
    "not JSON": ("not json", CloseCode.INVALID_FRAME),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_gets_a_close_frame_with_its_code_and_the_connection_ends(
    server: DaphneServer, case: str
) -> None:
    message, code = BAD_INPUT[case]
    bystander = await open_joined(server, "bystander")
    offender = await open_joined(server, "offender")
    try:
        await offender.send(message)
        assert (await close_frame(offender, server)).code == code, server.log()
        await asyncio.wait_for(offender.wait_closed(), WAIT_SECONDS)
        assert offender.state is State.CLOSED

        await assert_usable(bystander, server, "2")
    finally:
        await offender.close()
        await bystander.close()
