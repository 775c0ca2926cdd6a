"""The project's channel layer across a Redis restart (rooms/layers.py), on a server of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from rooms.layers import LayerUnavailable, ResilientRedisChannelLayer
from rooms.outage import RedisHealth
from tests.support.redis_server import RedisServer, running_redis_server

pytestmark = pytest.mark.redis


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A redis-server this test alone stops and starts."""
    with running_redis_server() as running:
        yield running


def make_layer(server: RedisServer) -> ResilientRedisChannelLayer:
    layer = ResilientRedisChannelLayer(hosts=[{"address": server.url, "socket_timeout": 30}])
    layer.health = RedisHealth()  # not the process's, which other tests share
    return layer


@pytest.fixture
async def layer(server: RedisServer) -> AsyncIterator[ResilientRedisChannelLayer]:
    made = make_layer(server)
    yield made
    await made.close_pools()


async def test_receive_waits_out_a_restart_and_gets_the_next_message(
    server: RedisServer, layer: ResilientRedisChannelLayer
) -> None:
    channel = await layer.new_channel("outage.")
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0.3)  # blocked in BZPOPMIN

    server.stop()
    await asyncio.sleep(1.5)
    assert not receiving.done(), "receive raised or returned during the outage"
    assert layer.health.down
    server.start()
    await layer.send(channel, {"type": "after.outage"})

    assert await asyncio.wait_for(receiving, timeout=5) == {"type": "after.outage"}
    assert not layer.health.down
    assert layer.health.recoveries == 1


async def test_send_while_redis_is_down_fails_at_once_with_layer_unavailable(
    server: RedisServer, layer: ResilientRedisChannelLayer
) -> None:
    server.stop(kill=True)
    started = time.monotonic()
    with pytest.raises(LayerUnavailable):
        await layer.send("outage.plain", {"type": "lost"})
    with pytest.raises(LayerUnavailable):
        await layer.group_add("outage-group", "outage.plain")
    assert time.monotonic() - started < 1.0
    assert layer.health.down


async def test_no_message_fails_on_a_stale_pooled_connection_after_a_restart(
    server: RedisServer, layer: ResilientRedisChannelLayer
) -> None:
    # Concurrent sends leave several connections in the pool, all dead after the restart.
    await asyncio.gather(*(layer.send(f"outage.c{i}", {"type": "warm"}) for i in range(8)))
    server.stop()
    server.start()

    for i in range(16):
        await layer.send(f"outage.c{i % 8}", {"type": "after", "n": i})
    assert [(await layer.receive(f"outage.c{i}"))["n"] for i in range(8)] == list(range(8))
