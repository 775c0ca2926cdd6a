"""Fixtures for Room tests with real aiortc peers on this host's addresses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import pytest
from aiortc import RTCPeerConnection

from rooms.grants import PARTICIPANT, Grant
from rooms.limits import Limits
from rooms.messages import RemovalReason
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from tests.sfu.client import MediaClient, RoutingOutbox
from tests.sfu.peer_pair import new_peer


class Harness:
    """A Room plus the test clients in it; ``close`` tears everything down."""

    def __init__(self, config: MediaConfig) -> None:
        self.outbox = RoutingOutbox()
        self.room = Room("testroom", outbox=self.outbox, media=config, limits=Limits())
        self.outbox.room = self.room
        self.clients: list[MediaClient] = []

    async def client(self, peer_id: str, grants: frozenset[Grant] = PARTICIPANT) -> MediaClient:
        client = MediaClient(self.room, peer_id, grants)
        self.outbox.clients[peer_id] = client
        self.clients.append(client)
        await client.join()
        return client

    async def close(self) -> None:
        await self.room.close(RemovalReason.ROOM_CLOSED)
        for client in self.clients:
            await client.close()


@pytest.fixture
def media_config() -> MediaConfig:
    # No ICE servers at all: host candidates only, never a public STUN server.
    return MediaConfig()


@pytest.fixture
async def harness(media_config: MediaConfig) -> AsyncIterator[Harness]:
    h = Harness(media_config)
    yield h
    await h.close()


@pytest.fixture
async def peers() -> AsyncIterator[tuple[RTCPeerConnection, RTCPeerConnection]]:
    """A client and a worker peer connection (tests.sfu.peer_pair), closed afterwards."""
    client, worker = new_peer(), new_peer()
    yield client, worker
    await client.close()
    await worker.close()


@pytest.fixture
def baseline_threads() -> Callable[[], set[threading.Thread]]:
    before = set(threading.enumerate())
    return lambda: {t for t in threading.enumerate() if t not in before and t.is_alive()}


async def settle(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until ``predicate()`` holds; generous for a loaded 2-core machine."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)
