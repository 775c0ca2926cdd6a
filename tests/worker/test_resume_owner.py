"""The room's owner keeps a resumable peer whose socket is gone, and hands it to a resume.

A real RoomWorker hosting real SFU Rooms (with fake media) on the in-memory layer and a
0.5 s grace period; the consumers are plain layer channels.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from rooms import messages
from rooms.limits import Limits
from rooms.messages import RemovalReason
from rooms.registry.local import LocalRegistry
from rooms.roomtypes import RoomOutbox
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from rooms.worker.recorder import ParticipationRecorder
from rooms.worker.worker import RoomWorker
from tests.sfu.fakes import FakeMediaFactory

pytestmark = pytest.mark.django_db(transaction=True)

GRACE_SECONDS = 0.5
ROOM = "alpha"


class Site:
    def __init__(self) -> None:
        self.layer = InMemoryChannelLayer(capacity=10_000)
        self.registry = LocalRegistry()
        self.media = FakeMediaFactory()
        self.worker = RoomWorker(
            self.layer,
            self.registry,
            self._make_room,
            lease_seconds=30.0,
            lease_writer=self.registry,
            stall_seconds=30.0,
            recorder=ParticipationRecorder(backlog=1000),
            resume_grace_seconds=GRACE_SECONDS,
        )

    def _make_room(self, name: str, outbox: RoomOutbox) -> Room:
        return Room(
            name, outbox=outbox, media=MediaConfig(), limits=Limits(), media_factory=self.media
        )

    async def send(self, message: Any) -> None:
        assert self.worker.ref is not None
        await self.layer.send(self.worker.ref.channel, message)

    async def receive(self, channel: str, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.layer.receive(channel), timeout)

    async def events(self, channel: str, count: int) -> list[str]:
        """The types of the next ``count`` media events pushed to ``channel``."""
        kinds = []
        for _ in range(count):
            message = await self.receive(channel)
            assert message["type"] == "peer.media_event", message
            event = json.loads(message["data"])
            kinds.append(event["data"]["type"] if event["type"] == "custom" else event["type"])
        return kinds

    async def join_connected(self, peer_id: str, *, resumable: bool) -> str:
        await self.registry.claim_room(ROOM)
        channel = await self.layer.new_channel("peer.")
        join = messages.room_join(
            ROOM, peer_id, channel, {"displayName": peer_id}, 10, resumable=resumable
        )
        await self.send(join)
        assert (await self.receive(channel))["type"] == "peer.joined"
        connect = json.dumps({"type": "connect", "data": {"metadata": {}}})
        await self.send(messages.room_media_event(ROOM, peer_id, connect))
        assert await self.events(channel, 1) == ["connected"]
        return channel

    def peer_ids(self) -> set[str]:
        room = self.worker.rooms.get(ROOM)
        return {peer.peer_id for peer in room.peers} if room is not None else set()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    made = Site()
    await made.worker.start()
    yield made
    await made.worker.stop()


async def test_a_disconnected_resumable_peer_is_kept_unseen_and_a_resume_takes_it_back(
    site: Site,
) -> None:
    ann = await site.join_connected("ann", resumable=True)
    bob = await site.join_connected("bob", resumable=False)
    assert await site.events(ann, 1) == ["endpointAdded"]

    await site.send(messages.room_leave(ROOM, "ann", RemovalReason.DISCONNECTED, channel=ann))
    # What the room says meanwhile is not sent to a channel nobody reads.
    update = {"type": "updateEndpointMetadata", "data": {"metadata": {"displayName": "Bo"}}}
    await site.send(messages.room_media_event(ROOM, "bob", json.dumps(update)))
    await asyncio.sleep(GRACE_SECONDS / 2)
    fresh = await site.layer.new_channel("peer.")
    await site.send(messages.room_resume(ROOM, "ann", fresh))

    assert (await site.receive(ann))["reason"] == RemovalReason.REPLACED
    assert (await site.receive(fresh))["type"] == "peer.joined"
    assert await site.events(fresh, 2) == ["connected", "offerData"]
    # A late leave from the old socket is about nobody now; the grace timer was cancelled.
    await site.send(messages.room_leave(ROOM, "ann", RemovalReason.DISCONNECTED, channel=ann))
    await asyncio.sleep(GRACE_SECONDS * 3)
    assert site.peer_ids() == {"ann", "bob"}
    with pytest.raises(TimeoutError):  # Bob was told nothing of it all
        await site.receive(bob, timeout=0.2)


async def test_a_detached_peer_is_removed_when_its_grace_period_ends(site: Site) -> None:
    ann = await site.join_connected("ann", resumable=True)
    bob = await site.join_connected("bob", resumable=False)
    await site.send(messages.room_leave(ROOM, "ann", RemovalReason.DISCONNECTED, channel=ann))
    await asyncio.sleep(GRACE_SECONDS / 2)
    assert site.peer_ids() == {"ann", "bob"}

    assert await site.events(bob, 1) == ["endpointRemoved"]
    assert site.peer_ids() == {"bob"}
    fresh = await site.layer.new_channel("peer.")
    await site.send(messages.room_resume(ROOM, "ann", fresh))
    refusal = await site.receive(fresh)
    assert refusal["type"] == "peer.join_refused" and refusal["reason"] == "resume refused"


@pytest.mark.parametrize(
    ("resumable", "reason"),
    [(False, RemovalReason.DISCONNECTED), (True, RemovalReason.LEFT)],
)
async def test_a_leave_or_a_peer_that_cannot_resume_is_removed_at_once(
    site: Site, resumable: bool, reason: RemovalReason
) -> None:
    ann = await site.join_connected("ann", resumable=resumable)
    bob = await site.join_connected("bob", resumable=False)
    await site.send(messages.room_leave(ROOM, "ann", reason, channel=ann))
    assert await site.events(bob, 1) == ["endpointRemoved"]
    assert site.peer_ids() == {"bob"}


async def test_a_detached_peer_whose_media_fails_is_removed_as_media_failed(site: Site) -> None:
    ann = await site.join_connected("ann", resumable=True)
    bob = await site.join_connected("bob", resumable=False)
    await site.send(messages.room_leave(ROOM, "ann", RemovalReason.DISCONNECTED, channel=ann))
    await asyncio.sleep(0.05)
    site.media.made["ann"].on_failure()
    assert await site.events(bob, 1) == ["endpointRemoved"]
    assert site.peer_ids() == {"bob"}


async def test_a_resume_for_a_room_not_hosted_or_a_peer_not_connected_is_refused(
    site: Site,
) -> None:
    fresh = await site.layer.new_channel("peer.")
    await site.send(messages.room_resume("elsewhere", "ann", fresh))
    assert (await site.receive(fresh))["reason"] == "resume refused"

    await site.registry.claim_room(ROOM)
    channel = await site.layer.new_channel("peer.")
    await site.send(messages.room_join(ROOM, "carl", channel, {}, 10, resumable=True))
    assert (await site.receive(channel))["type"] == "peer.joined"
    await site.send(messages.room_resume(ROOM, "carl", fresh))  # never sent `connect`
    assert (await site.receive(fresh))["reason"] == "resume refused"
