"""rooms.admin_actions against real Redis: registry lookups and the Redis channel layer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import shortuuid
from channels_redis.core import RedisChannelLayer

from rooms import admin_actions
from rooms.admin_actions import InvalidInput, UnknownParticipant
from rooms.registry.base import LivePeer, WorkerRef
from rooms.registry.redis import RedisRegistry

pytestmark = pytest.mark.redis

ANN = LivePeer("peerAnn0001", "Ann", "2026-01-01T10:00:00+00:00")


@pytest.fixture
async def redis_layer(clean_redis: str) -> AsyncIterator[RedisChannelLayer]:
    layer = RedisChannelLayer(hosts=[clean_redis], prefix="admintest")
    yield layer
    await layer.flush()
    await layer.close_pools()


@pytest.fixture
async def registry(clean_redis: str) -> AsyncIterator[RedisRegistry]:
    registry = RedisRegistry.from_url(clean_redis, "admintest-" + shortuuid.uuid()[:6])
    yield registry
    await registry.close()


async def _live_room(registry: RedisRegistry, layer: RedisChannelLayer) -> WorkerRef:
    """Room "standup" owned by a worker listening on a real layer channel, with Ann in it."""
    owner = WorkerRef("worker-1", await layer.new_channel("roomworker."))
    await registry.heartbeat(owner, 1, 60.0)
    assert await registry.claim_room("standup") == owner
    await registry.set_live_peers("standup", [ANN])
    return owner


async def test_kick_reaches_the_owner_channel_over_redis(
    registry: RedisRegistry, redis_layer: RedisChannelLayer
) -> None:
    owner = await _live_room(registry, redis_layer)
    assert await admin_actions.kick_participant(
        "standup", ANN.peer_id, registry=registry, layer=redis_layer
    )
    message = await asyncio.wait_for(redis_layer.receive(owner.channel), 10)
    assert message == {"type": "room.kick", "room": "standup", "peer_id": ANN.peer_id}


async def test_close_reaches_the_owner_channel_over_redis(
    registry: RedisRegistry, redis_layer: RedisChannelLayer
) -> None:
    owner = await _live_room(registry, redis_layer)
    assert await admin_actions.close_room("standup", registry=registry, layer=redis_layer)
    message = await asyncio.wait_for(redis_layer.receive(owner.channel), 10)
    assert message == {"type": "room.close", "room": "standup"}


async def test_live_participants_and_counts_come_from_the_registry(
    registry: RedisRegistry, redis_layer: RedisChannelLayer
) -> None:
    await _live_room(registry, redis_layer)
    assert await admin_actions.live_participants("standup", registry=registry) == [ANN]
    assert await admin_actions.live_participants("elsewhere", registry=registry) == []
    assert await admin_actions.live_counts(registry=registry) == {"standup": 1}


async def test_room_whose_owner_died_is_not_live(
    registry: RedisRegistry, redis_layer: RedisChannelLayer
) -> None:
    owner = await _live_room(registry, redis_layer)
    await registry.unregister(owner)
    assert not await admin_actions.close_room("standup", registry=registry, layer=redis_layer)
    assert not await admin_actions.kick_participant(
        "standup", ANN.peer_id, registry=registry, layer=redis_layer
    )
    assert await admin_actions.live_participants("standup", registry=registry) == []


async def test_kick_of_a_peer_not_in_the_live_room_raises(
    registry: RedisRegistry, redis_layer: RedisChannelLayer
) -> None:
    await _live_room(registry, redis_layer)
    with pytest.raises(UnknownParticipant, match="No participant ghost1 is in room standup"):
        await admin_actions.kick_participant(
            "standup", "ghost1", registry=registry, layer=redis_layer
        )


@pytest.mark.parametrize("room", ["", "room:standup", "a b", "x" * 65, "-lead"])
async def test_malformed_room_names_are_refused(registry: RedisRegistry, room: str) -> None:
    with pytest.raises(InvalidInput):
        await admin_actions.close_room(room, registry=registry)
    with pytest.raises(InvalidInput):
        await admin_actions.live_participants(room, registry=registry)
