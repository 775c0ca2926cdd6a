"""A worker's lease written afresh brings its rooms' owners back in the same step.

After Redis restarted empty, the first write of a worker's lease (from its lease
keeper's thread or its loop) records it as the owner of the rooms it hosts. Were
the owners written later, a join in between would find the worker live and the
room ownerless, and could claim the room for another worker: two Rooms of one name
(DESIGN.md invariant 1). This was the race behind the reverted merge's failures of
tests/multiprocess/test_redis_outage.py under load: a fresh join worked before the
worker's restore loop had rewritten the call's owner.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from rooms.registry.base import WorkerRef
from rooms.registry.redis import RedisLeaseWriter, RedisRegistry
from tests.registry.conftest import unique_prefix

pytestmark = pytest.mark.redis

A = WorkerRef("wa", "roomworker.a")
B = WorkerRef("wb", "roomworker.b")


def lose_everything(url: str) -> None:
    """What a Redis that restarted without persistence holds: nothing."""
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()


async def test_the_first_lease_after_redis_lost_everything_restores_the_owners(
    clean_redis: str,
) -> None:
    prefix = unique_prefix()
    registry = RedisRegistry.from_url(clean_redis, prefix)
    writer = RedisLeaseWriter.from_url(clean_redis, prefix)
    try:
        await registry.heartbeat(A, 2, 60.0)
        assert await registry.claim_room("alpha") == A
        lose_everything(clean_redis)

        await asyncio.to_thread(writer.renew_lease, A, 2, 60.0, ("alpha", "beta"))

        assert [status.ref for status in await registry.live_workers()] == [A]
        assert await registry.owner("alpha") == A
        assert await registry.owner("beta") == A
        # So a join now reaches the worker holding the call, never a second worker.
        await registry.heartbeat(B, 0, 60.0)
        assert await registry.claim_room("alpha") == A
    finally:
        writer.close()
        await registry.close()


async def test_a_lease_written_afresh_never_takes_another_workers_room(clean_redis: str) -> None:
    prefix = unique_prefix()
    registry = RedisRegistry.from_url(clean_redis, prefix)
    try:
        await registry.heartbeat(B, 0, 60.0)
        assert await registry.claim_room("alpha") == B

        await registry.heartbeat(A, 1, 60.0, rooms=("alpha",))

        assert await registry.owner("alpha") == B
    finally:
        await registry.close()


async def test_a_lease_that_exists_restores_no_owner(clean_redis: str) -> None:
    """A room released meanwhile is not brought back by the next renewal of a live lease."""
    prefix = unique_prefix()
    registry = RedisRegistry.from_url(clean_redis, prefix)
    try:
        await registry.heartbeat(A, 1, 60.0)
        assert await registry.claim_room("alpha") == A
        await registry.release_room("alpha", A)

        await registry.heartbeat(A, 0, 60.0, rooms=("alpha",))

        assert await registry.owner("alpha") is None
    finally:
        await registry.close()
