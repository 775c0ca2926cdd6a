"""The owner monitor turns a lapsed worker lease into peer.removed(worker_lost)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer

from rooms import messages
from rooms.messages import RemovalReason
from rooms.outage import RedisHealth
from rooms.registry.base import WorkerRef
from rooms.registry.local import LocalRegistry
from rooms.web.monitor import OwnerMonitor


async def test_dead_owner_is_reported_once_to_each_watching_channel() -> None:
    layer = InMemoryChannelLayer()
    registry = LocalRegistry()
    alive, dead = WorkerRef("w-alive", "worker.a!1"), WorkerRef("w-dead", "worker.b!1")
    await registry.heartbeat(alive, 0, lease_seconds=60)
    await registry.heartbeat(dead, 0, lease_seconds=0.05)
    monitor = OwnerMonitor(layer)
    monitor.watch(room="r1", peer_id="p1", owner=dead, channel="peer.x!1")
    monitor.watch(room="r2", peer_id="p2", owner=alive, channel="peer.x!2")
    await monitor.close()  # drive checks by hand instead of the timer
    await asyncio.sleep(0.1)

    await monitor.check(registry)
    await monitor.check(registry)

    received = await asyncio.wait_for(layer.receive("peer.x!1"), timeout=2)
    assert received == messages.peer_removed("r1", "p1", RemovalReason.WORKER_LOST)
    assert monitor.watched == 1
    await asyncio.sleep(0.05)
    assert layer.channels.get("peer.x!1") is None or layer.channels["peer.x!1"].empty()


async def test_unwatched_peers_are_not_reported() -> None:
    layer = InMemoryChannelLayer()
    registry = LocalRegistry()
    dead = WorkerRef("w-dead", "worker.b!1")
    monitor = OwnerMonitor(layer)
    monitor.watch(room="r1", peer_id="p1", owner=dead, channel="peer.x!1")
    monitor.unwatch("p1")
    await monitor.close()
    await monitor.check(registry)
    assert monitor.watched == 0
    assert not layer.channels.get("peer.x!1")


async def test_no_owner_is_declared_dead_while_redis_is_down_or_for_a_lease_after(
    settings: Any,
) -> None:
    settings.VIDEOROOM = {**settings.VIDEOROOM, "WORKER_LEASE_SECONDS": 6}
    now = [100.0]
    health = RedisHealth(clock=lambda: now[0])
    layer = InMemoryChannelLayer()
    registry = LocalRegistry()  # holds no lease at all: a Redis that restarted empty
    monitor = OwnerMonitor(layer, health=health)
    monitor.watch(room="r1", peer_id="p1", owner=WorkerRef("w1", "worker.a!1"), channel="peer.x!1")
    await monitor.close()

    health.failed("test", ConnectionError("Error 111"))
    await monitor.check(registry)
    now[0] += 2.0
    health.succeeded()
    now[0] += 5.9
    await monitor.check(registry)
    assert monitor.watched == 1 and not layer.channels.get("peer.x!1")

    now[0] += 0.2  # a lease after Redis came back, the lease is still missing: the owner is gone
    await monitor.check(registry)
    assert monitor.watched == 0
    received = await asyncio.wait_for(layer.receive("peer.x!1"), timeout=2)
    assert received == messages.peer_removed("r1", "p1", RemovalReason.WORKER_LOST)
