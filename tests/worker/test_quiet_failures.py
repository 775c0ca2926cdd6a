"""Checks that run several times a second say a run of failures once, and its end once.

The lease keeper renews every quarter second and the owner monitor checks every
quarter second; a traceback per failure would be four a second per process for as
long as Redis is away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence

import pytest
from channels.layers import InMemoryChannelLayer
from redis.exceptions import ResponseError

from rooms.registry.base import WorkerRef
from rooms.registry.local import LocalRegistry
from rooms.web import monitor as monitor_module
from rooms.web.monitor import OwnerMonitor
from rooms.worker.lease import LeaseKeeper

REF = WorkerRef("w1", "worker.a!1")


class FlakyLeaseWriter:
    """Fails its first ``failures`` renewals with an error that is not an outage, then works.

    (An unreachable Redis is the outage tracker's to report: tests/worker/test_lease_outage.py.)
    """

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.renewed = 0

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        if self.failures:
            self.failures -= 1
            raise ResponseError("NOSCRIPT No matching script")
        self.renewed += 1


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_failed_lease_renewals_are_one_warning_and_their_end_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = FlakyLeaseWriter(failures=6)
    keeper = LeaseKeeper(writer, lambda: 0, lease_seconds=0.3, stall_seconds=30.0)
    with caplog.at_level(logging.INFO, logger="rooms.worker.lease"):
        keeper.start(REF)
        try:
            await until(lambda: writer.renewed >= 2)
        finally:
            await keeper.stop()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "room worker w1: lease renewal failed "
            "(ResponseError: NOSCRIPT No matching script), retrying",
        ),
        ("INFO", "room worker w1: lease renewed again"),
    ]


class FlakyRegistry(LocalRegistry):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.checks = 0

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        self.checks += 1
        if self.failures:
            self.failures -= 1
            raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
        return await super().alive(worker_ids)


async def test_failed_owner_checks_are_one_warning_and_their_end_one_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = FlakyRegistry(failures=5)
    await registry.heartbeat(REF, 0, lease_seconds=60)

    async def the_registry() -> FlakyRegistry:
        return registry

    monkeypatch.setattr(monitor_module, "room_registry", the_registry)
    monitor = OwnerMonitor(InMemoryChannelLayer(), interval=0.01)
    with caplog.at_level(logging.INFO, logger="rooms.web.monitor"):
        monitor.watch(room="r1", peer_id="p1", owner=REF, channel="peer.x!1")
        try:
            await until(lambda: registry.checks >= 8)
        finally:
            await monitor.close()
    assert monitor.watched == 1
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "owner monitor: check failed (ResponseError: WRONGTYPE Operation against a key "
            "holding the wrong kind of value), retrying",
        ),
        ("INFO", "owner monitor: checking again"),
    ]
