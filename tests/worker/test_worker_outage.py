"""The room worker across a Redis outage that lost every key: it writes its records again."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from channels.layers import InMemoryChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms import messages
from rooms.models import Room
from rooms.outage import RedisHealth
from rooms.registry.local import LocalRegistry
from rooms.roomtypes import RoomOutbox
from rooms.worker.worker import RoomWorker
from tests.worker.fake_room import FakeRoom

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 1.0


class Site:
    def __init__(self) -> None:
        self.layer = InMemoryChannelLayer(capacity=1000)
        self.registry = LocalRegistry()
        self.health = RedisHealth()
        self.rooms: dict[str, FakeRoom] = {}
        self.worker = RoomWorker(
            self.layer,
            self.registry,
            self._make_room,
            lease_seconds=LEASE_SECONDS,
            lease_writer=self.registry,
            stall_seconds=30.0,
            health=self.health,
        )

    def _make_room(self, name: str, outbox: RoomOutbox) -> FakeRoom:
        room = self.rooms[name] = FakeRoom(name, outbox)
        return room

    async def join(self, room: str, peer_id: str) -> None:
        channel = await self.layer.new_channel("peer.")
        owner = await self.registry.claim_room(room)
        assert owner is not None
        await self.layer.send(
            owner.channel, messages.room_join(room, peer_id, channel, {"displayName": peer_id}, 9)
        )
        reply = await asyncio.wait_for(self.layer.receive(channel), 5)
        assert reply["type"] == "peer.joined"

    def lose_everything(self) -> None:
        """What a Redis that restarted without persistence holds: nothing."""
        self.registry = LocalRegistry()
        self.worker._registry = self.registry


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    await Room.objects.acreate(name="alpha")
    made = Site()
    await made.worker.start()
    yield made
    await made.worker.stop()


async def test_after_an_outage_the_worker_rewrites_its_lease_owners_and_live_peers(
    site: Site,
) -> None:
    await site.join("alpha", "pa")
    await site.join("alpha", "pb")
    assert site.worker.ref is not None

    site.health.failed("test", RedisConnectionError("Error 111"))
    site.lose_everything()
    site.health.succeeded()

    async with asyncio.timeout(2):
        while await site.registry.owner("alpha") != site.worker.ref:
            await asyncio.sleep(0.05)
    assert {p.peer_id for p in await site.registry.live_peers("alpha")} == {"pa", "pb"}
    assert [s.load for s in await site.registry.live_workers()] == [2]


async def test_no_peer_is_reaped_as_a_ghost_for_a_lease_after_an_outage(site: Site) -> None:
    await site.join("alpha", "pa")
    room = site.rooms["alpha"]
    peer = room.peers[0]
    # Settled long ago, so the reaper judges it.
    room._peers["pa"] = dataclasses.replace(peer, joined_at=datetime.now(UTC) - timedelta(60))
    site.health.failed("test", RedisConnectionError("Error 111"))
    site.lose_everything()  # no web lease: the peer's web process looks dead
    site.health.succeeded()

    await asyncio.sleep(LEASE_SECONDS * 0.8)  # the reaper ran at least once meanwhile

    assert [p.peer_id for p in site.rooms["alpha"].peers] == ["pa"]
