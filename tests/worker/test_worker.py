"""The room worker's transport behaviour, with a Room double and real layers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from rooms import messages
from rooms.messages import JoinRefusal, RemovalReason
from rooms.models import Participation, Room
from rooms.registry.local import LocalRegistry
from rooms.roomtypes import RoomOutbox
from rooms.worker.worker import RoomWorker
from tests.worker.fake_room import FakeRoom

pytestmark = pytest.mark.django_db(transaction=True)


class Harness:
    def __init__(self) -> None:
        self.layer = InMemoryChannelLayer(capacity=1000)
        self.registry = LocalRegistry()
        self.rooms: dict[str, FakeRoom] = {}
        self.worker = self.make_worker(lease_seconds=3.0)

    def make_worker(self, *, lease_seconds: float) -> RoomWorker:
        return RoomWorker(
            self.layer,
            self.registry,
            self._make_room,
            lease_seconds=lease_seconds,
            lease_writer=self.registry,
            stall_seconds=30.0,
        )

    def _make_room(self, name: str, outbox: RoomOutbox) -> FakeRoom:
        room = self.rooms[name] = FakeRoom(name, outbox)
        return room

    async def peer_channel(self) -> str:
        return await self.layer.new_channel("peer.")

    async def receive(self, channel: str) -> dict[str, Any]:
        return await asyncio.wait_for(self.layer.receive(channel), timeout=5)

    async def join(
        self, room: str, peer_id: str, channel: str, max_participants: int = 10
    ) -> dict[str, Any]:
        owner = await self.registry.claim_room(room)
        assert owner is not None
        await self.layer.send(
            owner.channel,
            messages.room_join(room, peer_id, channel, {"displayName": peer_id}, max_participants),
        )
        return await self.receive(channel)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    await Room.objects.acreate(name="alpha")
    h = Harness()
    await h.worker.start()
    yield h
    await h.worker.stop()


async def eventually(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_join_creates_one_room_and_replies_joined(harness: Harness) -> None:
    a, b = await harness.peer_channel(), await harness.peer_channel()
    assert (await harness.join("alpha", "pa", a))["type"] == "peer.joined"
    assert (await harness.join("alpha", "pb", b))["type"] == "peer.joined"
    assert list(harness.rooms) == ["alpha"]
    assert {p.peer_id for p in harness.rooms["alpha"].peers} == {"pa", "pb"}
    await eventually(
        lambda: harness.registry._peers.get("alpha") and len(harness.registry._peers["alpha"]) == 2
    )
    # The join reply does not wait for the database: wait for the recorder instead.
    await harness.worker.recorder.flush()
    assert (
        await Participation.objects.filter(room__name="alpha", left_at__isnull=True).acount() == 2
    )


async def test_media_events_reach_the_room_in_order_and_come_back_to_peers(
    harness: Harness,
) -> None:
    a, b = await harness.peer_channel(), await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    await harness.join("alpha", "pb", b)
    owner = await harness.registry.owner("alpha")
    assert owner is not None
    for index in range(20):
        await harness.layer.send(
            owner.channel, messages.room_media_event("alpha", "pa", f'{{"n":{index}}}')
        )
    received = [await harness.receive(b) for _ in range(20)]
    assert [m["data"] for m in received] == [f'{{"n":{i}}}' for i in range(20)]
    assert all(m["type"] == "peer.media_event" and m["peer_id"] == "pb" for m in received)


async def test_join_for_a_room_owned_elsewhere_is_refused_with_retry(harness: Harness) -> None:
    channel = await harness.peer_channel()
    assert harness.worker.ref is not None
    # No claim was made, so this worker does not own the room.
    await harness.layer.send(
        harness.worker.ref.channel,
        messages.room_join("alpha", "pa", channel, {"displayName": "A"}, 10),
    )
    reply = await harness.receive(channel)
    assert reply["type"] == "peer.join_refused"
    assert reply["retry"] is True
    assert harness.rooms == {}


async def test_full_room_refuses_with_stable_reason(harness: Harness) -> None:
    a, b = await harness.peer_channel(), await harness.peer_channel()
    await harness.join("alpha", "pa", a, max_participants=1)
    reply = await harness.join("alpha", "pb", b, max_participants=1)
    assert reply == messages.peer_join_refused("alpha", "pb", JoinRefusal.FULL)


async def test_last_leave_tears_the_room_down_everywhere(harness: Harness) -> None:
    a = await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    owner = await harness.registry.owner("alpha")
    assert owner is not None
    await harness.layer.send(owner.channel, messages.room_leave("alpha", "pa", RemovalReason.LEFT))
    await eventually(lambda: "alpha" not in harness.worker.rooms)
    assert await harness.registry.owner("alpha") is None
    assert await harness.registry.live_peers("alpha") == []
    await harness.worker.recorder.flush()
    participation = await Participation.objects.aget(peer_id="pa")
    assert participation.left_at is not None
    assert participation.leave_reason == "left"


async def test_kick_tells_only_the_kicked_peer(harness: Harness) -> None:
    a, b = await harness.peer_channel(), await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    await harness.join("alpha", "pb", b)
    owner = await harness.registry.owner("alpha")
    assert owner is not None
    await harness.layer.send(owner.channel, messages.room_kick("alpha", "pa"))
    assert await harness.receive(a) == messages.peer_removed("alpha", "pa", RemovalReason.KICKED)
    await eventually(lambda: [p.peer_id for p in harness.rooms["alpha"].peers] == ["pb"])


async def test_close_room_removes_every_peer_with_room_closed(harness: Harness) -> None:
    a, b = await harness.peer_channel(), await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    await harness.join("alpha", "pb", b)
    owner = await harness.registry.owner("alpha")
    assert owner is not None
    await harness.layer.send(owner.channel, messages.room_close("alpha"))
    assert (await harness.receive(a))["reason"] == "room_closed"
    assert (await harness.receive(b))["reason"] == "room_closed"
    await eventually(lambda: "alpha" not in harness.worker.rooms)


async def test_stop_tells_peers_and_drops_the_lease(harness: Harness) -> None:
    a = await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    await harness.worker.stop()
    assert await harness.receive(a) == messages.peer_removed(
        "alpha", "pa", RemovalReason.WORKER_SHUTDOWN
    )
    assert await harness.registry.live_workers() == []
    assert await harness.registry.owner("alpha") is None
    participation = await Participation.objects.aget(peer_id="pa")
    assert participation.leave_reason == "worker_shutdown"


async def test_malformed_messages_do_not_stop_the_worker(harness: Harness) -> None:
    assert harness.worker.ref is not None
    for bad in [
        {"type": "room.join"},
        {"type": "nope", "room": "alpha"},
        {"type": "room.leave", "room": "a:b"},
    ]:
        await harness.layer.send(harness.worker.ref.channel, bad)
    a = await harness.peer_channel()
    assert (await harness.join("alpha", "pa", a))["type"] == "peer.joined"


async def test_peers_of_a_web_process_without_lease_are_reaped(harness: Harness) -> None:
    living, dead = "specific.webA!p1", "specific.webB!p2"
    await harness.join("alpha", "pa", living)
    await harness.join("alpha", "pb", dead)
    await harness.registry.heartbeat_web({"specific.webA"}, lease_seconds=60)
    # Only peers older than a lease are judged; the harness lease is 3 s.
    assert await harness.worker.reap_ghosts() == 0
    assert len(harness.rooms["alpha"].peers) == 2
    # The worker's own reaper (every half lease) removes the ghost.
    await eventually(
        lambda: [p.peer_id for p in harness.rooms["alpha"].peers] == ["pa"], timeout=15
    )
    await harness.worker.recorder.flush()
    participation = await Participation.objects.aget(peer_id="pb")
    assert participation.leave_reason == "disconnected"


class FlakyLayer(InMemoryChannelLayer):
    """Receive fails while ``failing`` is set, as channels-redis does when Redis drops."""

    failing = False

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.failing and channel.startswith("roomworker."):
            await asyncio.sleep(0.05)
            raise ConnectionError("redis went away")
        return await super().receive(channel)


async def test_receive_errors_are_retried_and_let_the_lease_lapse_meanwhile() -> None:
    await Room.objects.acreate(name="alpha")
    h = Harness()
    h.layer = FlakyLayer(capacity=1000)
    h.worker = h.make_worker(lease_seconds=1.5)
    ref = await h.worker.start()
    try:
        h.layer.failing = True
        await eventually(lambda: ref.worker_id not in h.registry._live(), timeout=10)
        h.layer.failing = False
        await eventually(lambda: ref.worker_id in h.registry._live(), timeout=10)
        channel = await h.peer_channel()
        assert (await h.join("alpha", "pa", channel))["type"] == "peer.joined"
    finally:
        await h.worker.stop()


async def test_room_emptied_by_the_room_itself_is_torn_down(harness: Harness) -> None:
    a = await harness.peer_channel()
    await harness.join("alpha", "pa", a)
    # As the SFU does from its own task when a peer's connection fails.
    await harness.rooms["alpha"].remove_peer("pa", RemovalReason.MEDIA_FAILED)
    assert await harness.receive(a) == messages.peer_removed(
        "alpha", "pa", RemovalReason.MEDIA_FAILED
    )
    await eventually(lambda: "alpha" not in harness.worker.rooms)
    assert await harness.registry.owner("alpha") is None


async def test_the_lease_never_shows_a_load_older_than_the_last_published_one() -> None:
    """The keeper's thread renews every lease/3 with the last stamped load; a stamp a
    tick old would make a worker that just took peers look idle to the next claim."""
    await Room.objects.acreate(name="busy")
    harness = Harness()
    harness.worker = harness.make_worker(lease_seconds=0.3)  # a renewal every 0.1 s
    await harness.worker.start()
    try:
        ref = harness.worker.ref
        assert ref is not None
        # The peers' web process holds its lease, so the reaper leaves them alone.
        await harness.registry.heartbeat_web({"specific.webA"}, lease_seconds=60)
        for peer_id in ("p1", "p2", "p3"):
            channel = f"specific.webA!{peer_id}"
            assert (await harness.join("busy", peer_id, channel))["type"] == "peer.joined"

        async def lease_load() -> int:
            statuses = {s.ref.worker_id: s.load for s in await harness.registry.live_workers()}
            return statuses[ref.worker_id]

        deadline = asyncio.get_running_loop().time() + 5
        while await lease_load() != 3:
            assert asyncio.get_running_loop().time() < deadline, "load 3 never published"
            await asyncio.sleep(0.01)
        # Over a whole tick of the keeper's pulse (1 s), no renewal may bring back load 0.
        seen = set()
        for _ in range(120):
            seen.add(await lease_load())
            await asyncio.sleep(0.01)
        assert seen == {3}
    finally:
        await harness.worker.stop()
