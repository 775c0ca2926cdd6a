"""Each room has one serialized owner: the receive loop only routes, queues are bounded.

Rooms are FakeRooms; registry, room factory and participation store are doubles
that can be made to block, to show that one room's slow work stays with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from rooms import messages
from rooms.limits import Limits
from rooms.messages import JoinRefusal, RemovalReason
from rooms.models import Participation, Room
from rooms.registry.base import WorkerRef
from rooms.registry.local import LocalRegistry
from rooms.roomtypes import PeerInfo, RoomOutbox
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room as SfuRoom
from rooms.worker.recorder import ParticipationRecorder
from rooms.worker.worker import RoomWorker
from tests.sfu.fakes import FakeMediaFactory, FakeOutbox
from tests.worker.fake_room import FakeRoom

pytestmark = pytest.mark.django_db(transaction=True)

# A reply that takes longer than this was held up behind another room.
PROMPT_SECONDS = 1.0


class GatedRegistry(LocalRegistry):
    """A registry whose owner lookups for rooms in ``slow`` wait until the gate opens.

    Releases take ``release_seconds``, as a Redis round trip does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.slow: set[str] = set()
        self.gate = asyncio.Event()
        self.release_seconds = 0.0

    async def release_room(self, room: str, ref: WorkerRef) -> None:
        await asyncio.sleep(self.release_seconds)
        await super().release_room(room, ref)

    async def owner(self, room: str) -> WorkerRef | None:
        if room in self.slow:
            await self.gate.wait()
        return await super().owner(room)


class SlowRoom(FakeRoom):
    """A FakeRoom whose media events and close wait for ``gate`` (a slow SDP, a slow close)."""

    gate: asyncio.Event
    slow_close = False

    async def handle_media_event(self, peer_id: str, data: str) -> None:
        await self.gate.wait()
        await super().handle_media_event(peer_id, data)

    async def close(self, reason: RemovalReason) -> None:
        if self.slow_close:
            await self.gate.wait()
        await super().close(reason)


class BlockedStore:
    """A database that does not answer until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def record_join(self, room: str, peer_id: str, display_name: str, joined_at: datetime) -> None:
        self.release.wait(10)

    def record_leave(self, room: str, peer_id: str, reason: RemovalReason) -> None:
        self.release.wait(10)

    def close_dangling_participations(self, room: str) -> int:
        self.release.wait(10)
        return 0

    def record_refusal(
        self, room: str, peer_id: str, display_name: str, reason: JoinRefusal
    ) -> None:
        self.release.wait(10)


class Owner:
    def __init__(self, *, queue_length: int = 512) -> None:
        self.layer = InMemoryChannelLayer(capacity=10_000)
        self.registry = GatedRegistry()
        self.made: list[FakeRoom] = []
        self.gate = asyncio.Event()
        self.slow_rooms: set[str] = set()
        self.worker = RoomWorker(
            self.layer,
            self.registry,
            self._make_room,
            lease_seconds=30.0,
            lease_writer=self.registry,
            stall_seconds=30.0,
            limits=Limits(room_queue_length=queue_length),
            recorder=ParticipationRecorder(backlog=10_000),
        )

    def _make_room(self, name: str, outbox: RoomOutbox) -> FakeRoom:
        room: FakeRoom = FakeRoom(name, outbox)
        if name in self.slow_rooms:
            room = SlowRoom(name, outbox)
            room.gate = self.gate
        self.made.append(room)
        return room

    def room(self, name: str) -> FakeRoom:
        return [room for room in self.made if room.name == name][-1]

    async def send(self, message: Any) -> None:
        owner = await LocalRegistry.owner(self.registry, message["room"])
        assert self.worker.ref is not None
        await self.layer.send((owner or self.worker.ref).channel, message)

    async def send_join(self, room: str, peer_id: str, max_participants: int = 50) -> str:
        await self.registry.claim_room(room)
        channel = await self.layer.new_channel("peer.")
        await self.send(
            messages.room_join(room, peer_id, channel, {"displayName": peer_id}, max_participants)
        )
        return channel

    async def receive(self, channel: str, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.layer.receive(channel), timeout)


@pytest.fixture
async def owner() -> AsyncIterator[Owner]:
    made = Owner()
    await made.worker.start()
    yield made
    made.gate.set()
    made.registry.gate.set()
    await made.worker.stop()


async def eventually(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_room_slow_to_claim_delays_no_other_room(owner: Owner) -> None:
    owner.registry.slow.add("slow")
    slow = await owner.send_join("slow", "s1")
    fast = await owner.send_join("fast", "f1")
    other = await owner.send_join("fast", "f2")
    assert (await owner.receive(fast, PROMPT_SECONDS))["type"] == "peer.joined"
    assert (await owner.receive(other, PROMPT_SECONDS))["type"] == "peer.joined"
    await owner.send(messages.room_media_event("fast", "f1", "hello"))
    assert (await owner.receive(other, PROMPT_SECONDS))["data"] == "hello"
    owner.registry.gate.set()
    assert (await owner.receive(slow))["type"] == "peer.joined"


async def test_a_room_slow_to_handle_delays_no_other_room(owner: Owner) -> None:
    owner.slow_rooms.add("slow")
    slow_a, slow_b = await owner.send_join("slow", "s1"), await owner.send_join("slow", "s2")
    await owner.receive(slow_a)
    await owner.receive(slow_b)
    await owner.send(messages.room_media_event("slow", "s1", "stuck"))
    fast_a, fast_b = await owner.send_join("fast", "f1"), await owner.send_join("fast", "f2")
    assert (await owner.receive(fast_a, PROMPT_SECONDS))["type"] == "peer.joined"
    assert (await owner.receive(fast_b, PROMPT_SECONDS))["type"] == "peer.joined"
    await owner.send(messages.room_media_event("fast", "f1", "hello"))
    assert (await owner.receive(fast_b, PROMPT_SECONDS))["data"] == "hello"
    owner.gate.set()
    assert (await owner.receive(slow_b))["data"] == "stuck"


async def test_a_blocked_database_delays_no_join_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = BlockedStore()
    # The database itself hangs: every participation write waits until released.
    for name in ("record_join", "record_leave", "close_dangling_participations", "record_refusal"):
        monkeypatch.setattr(f"rooms.services.{name}", getattr(blocked, name))
    made = Owner()
    await made.worker.start()
    try:
        for room in ("one", "two"):
            for index in range(3):
                channel = await made.send_join(room, f"{room}{index}")
                assert (await made.receive(channel, PROMPT_SECONDS))["type"] == "peer.joined"
    finally:
        blocked.release.set()
        await made.worker.stop()


async def test_past_the_queue_bound_joins_are_refused_busy_and_media_events_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await Room.objects.acreate(name="crowd")
    made = Owner(queue_length=3)
    made.registry.slow.add("crowd")
    await made.worker.start()
    try:
        admitted = [await made.send_join("crowd", f"p{index}") for index in range(3)]
        late = await made.send_join("crowd", "late")
        assert await made.receive(late, PROMPT_SECONDS) == messages.peer_join_refused(
            "crowd", "late", JoinRefusal.BUSY
        )
        with caplog.at_level(logging.WARNING, logger="rooms.worker.host"):
            for index in range(50):
                await made.send(messages.room_media_event("crowd", "p0", f"{index}"))
            # Leaves are never dropped, however full the queue.
            for peer_id in ("p0", "p1"):
                await made.send(messages.room_leave("crowd", peer_id, RemovalReason.LEFT))
            await asyncio.sleep(0.2)
        drops = [r for r in caplog.records if "dropped" in r.getMessage()]
        assert len(drops) == 1, "one rate-limited line, not one per event"
        made.registry.gate.set()
        for channel in admitted:
            assert (await made.receive(channel))["type"] == "peer.joined"
        await eventually(lambda: [p.peer_id for p in made.room("crowd").peers] == ["p2"])
        assert made.room("crowd").media_events == []
        await made.worker.recorder.flush()
        left = Participation.objects.filter(room__name="crowd", leave_reason="left")
        assert sorted([p.peer_id async for p in left]) == ["p0", "p1"]
    finally:
        await made.worker.stop()


async def test_a_join_racing_the_teardown_gets_a_fresh_room_this_worker_still_owns(
    owner: Owner,
) -> None:
    owner.slow_rooms.add("alpha")
    first = await owner.send_join("alpha", "pa")
    assert (await owner.receive(first))["type"] == "peer.joined"
    old_room = owner.room("alpha")
    assert isinstance(old_room, SlowRoom)
    old_room.slow_close = True
    await owner.send(messages.room_leave("alpha", "pa", RemovalReason.LEFT))
    await eventually(lambda: "alpha" not in owner.worker._hosts)
    # The old host is stuck closing its Room; a join now goes to a new host, which
    # waits for the old one and inherits the room instead of releasing it.
    second = await owner.send_join("alpha", "pb")
    await asyncio.sleep(0.1)
    assert owner.room("alpha") is old_room, "no second Room while the first one closes"
    owner.gate.set()
    assert (await owner.receive(second))["type"] == "peer.joined"
    new_room = owner.room("alpha")
    assert new_room is not old_room
    assert old_room.closed_with == RemovalReason.ROOM_CLOSED
    assert await owner.registry.owner("alpha") == owner.worker.ref
    assert [p.peer_id for p in owner.worker.rooms["alpha"].peers] == ["pb"]
    await eventually(lambda: owner.worker._retiring == {})


async def test_a_join_arriving_while_the_room_is_released_claims_it_again(
    owner: Owner,
) -> None:
    owner.registry.release_seconds = 0.3
    first = await owner.send_join("alpha", "pa")
    await owner.receive(first)
    await owner.send(messages.room_leave("alpha", "pa", RemovalReason.LEFT))
    await eventually(lambda: "alpha" not in owner.worker._hosts)
    # Sent to this worker, the owner until the release lands a moment later.
    second = await owner.send_join("alpha", "pb")
    assert (await owner.receive(second))["type"] == "peer.joined"
    assert await owner.registry.owner("alpha") == owner.worker.ref
    assert [p.peer_id for p in owner.worker.rooms["alpha"].peers] == ["pb"]


async def test_join_and_leave_churn_without_waiting_is_never_refused(owner: Owner) -> None:
    channels = []
    for round_ in range(10):
        for index in range(10):
            peer_id = f"p{round_}x{index}"
            channels.append(await owner.send_join("churn", peer_id))
            await owner.send(messages.room_leave("churn", peer_id, RemovalReason.LEFT))
    replies = [await owner.receive(channel) for channel in channels]
    assert {reply["type"] for reply in replies} == {"peer.joined"}
    await eventually(lambda: owner.worker.rooms == {})
    assert await owner.registry.owner("churn") is None


async def test_two_hundred_rooms_come_and_go_and_leave_no_state_behind(owner: Owner) -> None:
    for index in range(200):
        room = f"room{index}"
        channel = await owner.send_join(room, f"p{index}")
        assert (await owner.receive(channel))["type"] == "peer.joined"
        await owner.send(messages.room_leave(room, f"p{index}", RemovalReason.LEFT))
    await eventually(lambda: not owner.worker._hosts and not owner.worker._retiring)
    assert owner.worker.rooms == {}
    # No per-room dict of any name is left over (main's per-room locks were).
    kept = {name: value for name, value in vars(owner.worker).items() if isinstance(value, dict)}
    assert kept and all(value == {} for value in kept.values()), kept
    assert owner.registry._owners == {}
    assert owner.registry._peers == {}


async def test_a_removal_the_room_asks_for_is_done_by_its_owner_in_order(owner: Owner) -> None:
    a, b = await owner.send_join("alpha", "pa"), await owner.send_join("alpha", "pb")
    await owner.receive(a)
    await owner.receive(b)
    room = owner.room("alpha")
    room.outbox.request_removal("pa", RemovalReason.MEDIA_FAILED)
    # Asked, not done: the owner removes the peer from its own task.
    assert {p.peer_id for p in room.peers} == {"pa", "pb"}
    assert await owner.receive(a) == messages.peer_removed(
        "alpha", "pa", RemovalReason.MEDIA_FAILED
    )
    assert [p.peer_id for p in room.peers] == ["pb"]
    room.outbox.request_removal("pb", RemovalReason.MEDIA_FAILED)
    await eventually(lambda: "alpha" not in owner.worker.rooms)
    assert await owner.registry.owner("alpha") is None


class AskingOutbox(FakeOutbox):
    """The sfu test outbox, plus the removal requests a Room makes of its owner."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, RemovalReason]] = []

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        self.requests.append((peer_id, reason))


async def test_the_sfu_room_asks_its_owner_to_remove_a_peer_whose_media_failed() -> None:
    outbox, factory = AskingOutbox(), FakeMediaFactory()
    room = SfuRoom("r1", outbox=outbox, media=MediaConfig(), limits=Limits(), media_factory=factory)
    connect = json.dumps({"type": "connect", "data": {"metadata": {}}})
    for peer_id in ("a", "b"):
        await room.add_peer(PeerInfo(peer_id, f"chan.{peer_id}", peer_id), max_participants=4)
        await room.handle_media_event(peer_id, connect)
    tasks_before = asyncio.all_tasks()
    factory.made["a"].on_failure()
    await asyncio.sleep(0.05)
    assert outbox.requests == [("a", RemovalReason.MEDIA_FAILED)]
    assert asyncio.all_tasks() - tasks_before == set(), "the Room starts no removal of its own"
    assert {p.peer_id for p in room.peers} == {"a", "b"} and outbox.left == []
    await room.remove_peer("a", RemovalReason.MEDIA_FAILED)  # as its owner then does
    assert outbox.left == [("a", RemovalReason.MEDIA_FAILED)]
    await room.close(RemovalReason.ROOM_CLOSED)


async def test_a_room_that_fails_to_close_is_still_forgotten_everywhere(owner: Owner) -> None:
    owner.slow_rooms.add("alpha")
    channel = await owner.send_join("alpha", "pa")
    await owner.receive(channel)
    room = owner.room("alpha")

    async def broken_close(reason: RemovalReason) -> None:
        raise RuntimeError("aiortc fell over")

    room.close = broken_close  # type: ignore[method-assign]
    await owner.send(messages.room_leave("alpha", "pa", RemovalReason.LEFT))
    await eventually(lambda: not owner.worker._hosts and not owner.worker._retiring)
    assert await owner.registry.owner("alpha") is None
