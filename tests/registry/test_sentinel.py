"""Redis through Sentinel: the layer, the registry and the lease writer find the master.

A real redis-server and a real sentinel monitoring it; the clients are given only the
sentinel's address and the master's name (rooms/redis_target.py), as a deployment with
VIDEOROOM_REDIS_SENTINELS gives them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import shortuuid

from rooms.layers import ResilientRedisChannelLayer
from rooms.outage import RedisHealth
from rooms.redis_target import SentinelTarget
from rooms.registry.base import WorkerRef
from rooms.registry.redis import RedisLeaseWriter, RedisRegistry
from tests.support.redis_server import RedisServer, running_redis_server, running_sentinel

pytestmark = pytest.mark.redis

MASTER = "videoroom-test"


@pytest.fixture(scope="module")
def master() -> Iterator[RedisServer]:
    with running_redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def target(master: RedisServer) -> Iterator[SentinelTarget]:
    with running_sentinel(master, MASTER) as address:
        yield SentinelTarget((address,), MASTER)


async def test_the_registry_and_the_lease_writer_reach_the_master_through_sentinel(
    target: SentinelTarget,
) -> None:
    prefix = "sentinel-" + shortuuid.uuid()[:8]
    registry = RedisRegistry.from_target(target, prefix)
    writer = RedisLeaseWriter.from_target(target, prefix)
    try:
        ref = WorkerRef("w1", "roomworker.w1")
        await asyncio.to_thread(writer.renew_lease, ref, 0, 6.0)
        assert [status.ref for status in await registry.live_workers()] == [ref]
        assert await registry.claim_room("alpha") == ref
    finally:
        writer.close()
        await registry.close()


async def test_the_channel_layer_carries_a_message_through_sentinel(
    target: SentinelTarget,
) -> None:
    layer = ResilientRedisChannelLayer(
        hosts=[target.layer_host(socket_timeout=30)], prefix="sentinel-" + shortuuid.uuid()[:8]
    )
    layer.health = RedisHealth()  # not the process's, which other tests share
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "room.ping", "n": 1})
        async with asyncio.timeout(10):
            assert await layer.receive(channel) == {"type": "room.ping", "n": 1}
    finally:
        await layer.close_pools()
