"""The owner monitor: Phoenix's ``Process.monitor(room)`` for a web process.

Each web process watches the owners of the rooms its channels are in, and
keeps its own lease fresh meanwhile so that workers can tell its peers from
ghosts (a web process killed without closing its sockets). When an owner's
lease lapses (the worker died or was stopped), every watching channel
gets ``peer.removed`` with ``worker_lost``, which becomes ``phx_error``; the
phoenix client then rejoins, and that join's claim replaces the dead owner.

A missing lease proves nothing while Redis itself is unreachable, nor for a lease
after it comes back: a Redis that restarted empty has lost every lease until the
workers' keepers write them again. Reporting then would turn a Redis blip into
``phx_error`` for every call, so the monitor judges no owner until a lease has
passed since this process last reached Redis after an outage (``rooms.outage``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from rooms import messages
from rooms.layers import LayerUnavailable
from rooms.messages import RemovalReason
from rooms.outage import OUTAGE_ERRORS, RedisHealth, redis_health
from rooms.registry import Registry, WorkerRef
from rooms.registry.base import web_id_of
from rooms.tasks import describe, spawn
from rooms.web.wiring import room_registry

logger = logging.getLogger(__name__)

# One Redis round trip (an MGET of the watched owners' leases) per process every
# 0.25 s, whatever the number of sockets: 4 round trips a second, well under a
# millisecond of Redis time. With the default 1.5 s worker lease a kill -9 of an
# owner is reported 1.25-1.75 s later.
CHECK_INTERVAL_SECONDS = 0.25
# This process's own lease, which workers read to tell its peers from ghosts, is
# written this many times per web lease: once a second with the default 6 s.
WEB_RENEWALS_PER_LEASE = 6


@dataclass(frozen=True)
class _Watch:
    room: str
    peer_id: str
    owner: WorkerRef
    channel: str


class OwnerMonitor:
    def __init__(
        self,
        layer: BaseChannelLayer,
        interval: float = CHECK_INTERVAL_SECONDS,
        health: RedisHealth = redis_health,
    ) -> None:
        self._layer = layer
        self._interval = interval
        self._health = health
        self._watches: dict[str, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._web_lease_written_at = -float("inf")

    def watch(self, *, room: str, peer_id: str, owner: WorkerRef, channel: str) -> None:
        self._watches[peer_id] = _Watch(room, peer_id, owner, channel)
        if self._task is None or self._task.done():
            self._task = spawn(self._run(), name="owner-monitor")

    def unwatch(self, peer_id: str) -> None:
        self._watches.pop(peer_id, None)

    @property
    def watched(self) -> int:
        return len(self._watches)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        # The task ends when nothing is watched; watch() starts a new one.
        lease = settings.VIDEOROOM["WEB_LEASE_SECONDS"]
        failing = False
        while self._watches:
            try:
                registry = await room_registry()
                now = time.monotonic()
                if now - self._web_lease_written_at >= lease / WEB_RENEWALS_PER_LEASE:
                    web_ids = {web_id_of(watch.channel) for watch in self._watches.values()}
                    await registry.heartbeat_web(web_ids, lease)
                    self._web_lease_written_at = now
                    self._health.succeeded()  # only after a call that reached Redis
                await self.check(registry)
            except OUTAGE_ERRORS as error:
                # Redis is down: the outage's one warning and one recovery line (rooms.outage).
                self._health.failed("owner monitor", error)
            except Exception as error:
                # Checks come every quarter second: one line for a run of failures.
                if not failing:
                    logger.warning("owner monitor: check failed (%s), retrying", describe(error))
                failing = True
            else:
                if failing:
                    logger.info("owner monitor: checking again")
                failing = False
            await asyncio.sleep(self._interval)

    async def check(self, registry: Registry) -> None:
        """Report every watch whose owner's lease has lapsed, once."""
        watches = list(self._watches.values())
        if not watches:
            return
        if self._health.settling(settings.VIDEOROOM["WORKER_LEASE_SECONDS"]):
            return  # leases are unreadable, or may still be being rewritten
        alive = await registry.alive({w.owner.worker_id for w in watches})
        for watch in watches:
            if watch.owner.worker_id in alive or self._watches.get(watch.peer_id) is not watch:
                continue
            del self._watches[watch.peer_id]
            logger.warning(
                "room %s peer %s: owner %s is gone",
                watch.room,
                watch.peer_id,
                watch.owner.worker_id,
            )
            message = messages.peer_removed(watch.room, watch.peer_id, RemovalReason.WORKER_LOST)
            try:
                await self._layer.send(watch.channel, message)
            except LayerUnavailable:
                # Redis went away since the check: report it at a later check.
                self._watches.setdefault(watch.peer_id, watch)
            except Exception:
                logger.exception(
                    "room %s peer %s: could not report the lost owner", watch.room, watch.peer_id
                )


_monitors: WeakKeyDictionary[asyncio.AbstractEventLoop, OwnerMonitor] = WeakKeyDictionary()


def owner_monitor() -> OwnerMonitor:
    """This event loop's monitor."""
    loop = asyncio.get_running_loop()
    monitor = _monitors.get(loop)
    if monitor is None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"
        monitor = _monitors[loop] = OwnerMonitor(layer)
    return monitor
