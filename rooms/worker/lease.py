"""The lease keeper: renews a room worker's registry lease from a thread of its own.

Media forwarding can keep a worker's event loop seconds behind (a room of 12
video participants on a 2-core machine did in the benchmarks). Renewed from a
task on that loop, the lease then lapsed, and every web process declared the
worker dead: overload became an outage of the whole room. The keeper's thread
renews on time however busy the loop is, but only while the loop shows it
still runs: a task on the loop stamps a pulse every ``TICK_SECONDS``, and once
the last pulse is older than ``stall_seconds`` the thread stops renewing, so a
deadlocked loop still loses its lease, at most ``stall_seconds`` plus one lease
after its last pulse. A killed process takes the thread with it and its lease
lapses as before.

A renewal that cannot reach Redis is an outage, not a bug: reported once through
``rooms.outage``, and tried again every ``OUTAGE_RETRY_SECONDS`` rather than a third
of a lease later, so that a Redis that restarted empty has the lease back within
about that of its return (and new rooms can be placed on this worker again).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rooms.metrics import worker as worker_metrics
from rooms.outage import OUTAGE_ERRORS, RedisHealth, redis_health
from rooms.registry.base import LeaseWriter, WorkerRef
from rooms.tasks import describe, spawn

logger = logging.getLogger(__name__)

# How often the loop proves it is alive. Well under any sensible stall bound, and
# one cheap callback a second costs nothing next to media forwarding.
TICK_SECONDS = 1.0
# Renewals per lease. With the default 1.5 s lease a renewal every 0.25 s: a kill -9
# is seen 1.25-1.5 s later, and a live worker loses its lease only if its thread
# misses five renewals in a row (1.25 s without the GIL or without Redis;
# after a Redis outage the next renewal, at most 0.25 s after Redis answers, restores it). The
# thread waits on an Event, so a loop spinning in Python hands it the GIL within a
# switch interval (5 ms); each renewal is one pipelined round trip to Redis.
RENEWALS_PER_LEASE = 6
# Between renewals while Redis is unreachable, whatever the lease: joins to new rooms
# need this worker's lease, so it is back within half a second of Redis.
OUTAGE_RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class _Pulse:
    """What the loop last told the thread; replaced whole, so the thread reads it in one step."""

    at: float  # time.monotonic() when the loop ran the tick
    load: int  # the worker's load at that moment
    rooms: tuple[str, ...] = ()  # the rooms it hosts: owners a lease written afresh restores


class LeaseKeeper:
    """Renews one worker's lease every sixth of a lease while the worker's loop ticks.

    ``start`` and ``stop`` run on the worker's loop; ``load`` is called only there.
    """

    def __init__(
        self,
        writer: LeaseWriter,
        load: Callable[[], int],
        *,
        lease_seconds: float,
        stall_seconds: float,
        tick_seconds: float = TICK_SECONDS,
        health: RedisHealth = redis_health,
        rooms: Callable[[], tuple[str, ...]] = tuple,
    ) -> None:
        self._writer = writer
        self._load = load
        self._rooms = rooms
        self._lease_seconds = lease_seconds
        self._stall_seconds = stall_seconds
        self._tick_seconds = tick_seconds
        self._health = health
        self._pulse = _Pulse(time.monotonic(), 0)
        self._held_until = 0.0
        self._stopping = threading.Event()
        self._tick: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def start(self, ref: WorkerRef) -> None:
        """Start the loop's pulse and the renewing thread for ``ref``'s lease."""
        loop = asyncio.get_running_loop()
        self.stamp()
        self._tick = spawn(self._tick_loop(), name="lease-keeper-tick")
        # A daemon: a process that exits without stopping its worker must not hang on it.
        self._thread = threading.Thread(
            target=self._run, args=(ref, loop), name=f"lease-keeper-{ref.worker_id}", daemon=True
        )
        self._thread.start()

    def hold(self, seconds: float) -> None:
        """Renew nothing for the next ``seconds``: the worker cannot serve, let the lease lapse."""
        self._held_until = time.monotonic() + seconds

    async def stop(self) -> None:
        """Stop the pulse and the thread. No renewal happens after this returns."""
        self._stopping.set()
        if self._tick is not None:
            self._tick.cancel()
            await asyncio.gather(self._tick, return_exceptions=True)
            self._tick = None
        if self._thread is not None:
            # Waits out a renewal in flight; lease writes are bounded by their timeout.
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_seconds)
            self.stamp()

    def stamp(self) -> None:
        """Record that the loop runs, with the worker's load now; call on the loop.

        The worker also calls it whenever its load changes: the thread renews the lease
        with the last stamped load, and a load a tick old would overwrite the fresh one
        the worker just published (a busy worker looking idle for up to a second).
        """
        self._pulse = _Pulse(time.monotonic(), self._load(), self._rooms())

    def _run(self, ref: WorkerRef, loop: asyncio.AbstractEventLoop) -> None:
        renewing = True
        failing = False
        interval = self._lease_seconds / RENEWALS_PER_LEASE
        while not self._stopping.wait(interval):
            interval = self._lease_seconds / RENEWALS_PER_LEASE
            if loop.is_closed():
                # The loop was dropped without stop(): there is nothing left to keep alive.
                return
            pulse = self._pulse
            now = time.monotonic()
            if now < self._held_until:
                reason = "not receiving"
            elif now - pulse.at > self._stall_seconds:
                reason = f"event loop silent for {now - pulse.at:.1f} s"
            else:
                reason = ""
            if reason:
                if renewing:
                    logger.warning("room worker %s: %s, lease left to lapse", ref.worker_id, reason)
                renewing = False
                continue
            if not renewing:
                logger.info("room worker %s: renewing its lease again", ref.worker_id)
                renewing = True
            try:
                self._writer.renew_lease(ref, pulse.load, self._lease_seconds, pulse.rooms)
                worker_metrics.lease_renewed(True)
                self._health.succeeded()
            except OUTAGE_ERRORS as error:
                # Redis is down: the outage's one warning and one recovery line (rooms.outage).
                worker_metrics.lease_renewed(False)
                self._health.failed(f"worker {ref.worker_id} lease renewal", error)
                interval = min(interval, OUTAGE_RETRY_SECONDS)
                continue
            except Exception as error:
                worker_metrics.lease_renewed(False)
                # Renewals come every quarter second: one line for a run of failures.
                if not failing:
                    logger.warning(
                        "room worker %s: lease renewal failed (%s), retrying",
                        ref.worker_id,
                        describe(error),
                    )
                failing = True
                continue
            if failing:
                logger.info("room worker %s: lease renewed again", ref.worker_id)
                failing = False
