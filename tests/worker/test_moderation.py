"""Moderation through a room's owner: grants from ``room.join`` reach the SFU Room, a removal
ends the peer's channel for good, and every applied action is written to the history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rooms import messages
from rooms.grants import PARTICIPANT, Grant
from rooms.limits import Limits
from rooms.messages import RemovalReason
from rooms.models import ModerationAction, Participation, Room
from rooms.roomtypes import RoomOutbox
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room as SfuRoom
from tests.sfu.fakes import FakeMediaFactory
from tests.worker.test_room_owner import Owner, eventually

pytestmark = pytest.mark.django_db(transaction=True)

CONNECT = json.dumps({"type": "connect", "data": {"metadata": {}}})


def custom(kind: str, data: Any) -> str:
    return json.dumps({"type": "custom", "data": {"type": kind, "data": data}})


class SfuOwner(Owner):
    """A worker whose rooms are SFU Rooms with scripted media (no aiortc)."""

    def __init__(self) -> None:
        super().__init__()
        self.media = FakeMediaFactory()

    def _make_room(self, name: str, outbox: RoomOutbox) -> Any:
        return SfuRoom(
            name, outbox=outbox, media=MediaConfig(), limits=Limits(), media_factory=self.media
        )

    async def join(self, room: str, peer_id: str, grants: frozenset[Grant]) -> str:
        await self.registry.claim_room(room)
        channel = await self.layer.new_channel("peer.")
        await self.send(
            messages.room_join(room, peer_id, channel, {"displayName": peer_id.title()}, 8, grants)
        )
        assert (await self.receive(channel))["type"] == "peer.joined"
        await self.send(messages.room_media_event(room, peer_id, CONNECT))
        return channel

    async def drain(self, channel: str) -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                received.append(await self.receive(channel, 0.3))
            except TimeoutError:
                return received


@pytest.fixture
async def owner() -> AsyncIterator[SfuOwner]:
    await Room.objects.acreate(name="alpha")
    made = SfuOwner()
    await made.worker.start()
    yield made
    await made.worker.stop()


async def test_a_moderator_removes_a_peer_and_the_action_is_in_the_history(
    owner: SfuOwner,
) -> None:
    await owner.join("alpha", "mod", PARTICIPANT | {Grant.MODERATE})
    target = await owner.join("alpha", "ann", PARTICIPANT)
    await owner.drain(target)
    await owner.send(
        messages.room_media_event("alpha", "mod", custom("removePeer", {"peerId": "ann"}))
    )
    told, removed = await owner.receive(target), await owner.receive(target)
    assert json.loads(told["data"]) == {
        "type": "endpointRemoved",
        "data": {"id": "ann", "reason": "removed_by_moderator"},
    }
    assert removed == messages.peer_removed("alpha", "ann", RemovalReason.REMOVED_BY_MODERATOR)
    await owner.worker.recorder.flush()
    action = await ModerationAction.objects.aget()
    assert (action.moderator_peer_id, action.moderator_name, action.action) == (
        "mod",
        "Mod",
        "remove_peer",
    )
    assert (action.target_peer_id, action.target_name, action.track_id) == ("ann", "Ann", "")
    stay = await Participation.objects.aget(peer_id="ann")
    assert stay.leave_reason == "removed_by_moderator" and stay.left_at is not None


async def test_the_grants_of_room_join_decide_who_may_moderate(owner: SfuOwner) -> None:
    forger = await owner.join("alpha", "eve", PARTICIPANT)
    target = await owner.join("alpha", "ann", PARTICIPANT)
    await owner.drain(forger)
    await owner.drain(target)
    await owner.send(
        messages.room_media_event("alpha", "eve", custom("removePeer", {"peerId": "ann"}))
    )
    [refusal] = await owner.drain(forger)
    assert json.loads(refusal["data"]) == {
        "type": "error",
        "data": {"message": "not allowed to moderate (no moderate grant)"},
    }
    assert [m["type"] for m in await owner.drain(target)] == []
    await owner.worker.recorder.flush()
    assert await ModerationAction.objects.acount() == 0
    await eventually(
        lambda: {p.peer_id for p in owner.worker.rooms["alpha"].peers} == {"eve", "ann"}
    )
