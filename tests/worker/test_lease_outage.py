"""The lease keeper through a Redis outage: one warning, no traceback, the lease back at once."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms.outage import RedisHealth
from rooms.registry.base import WorkerRef
from rooms.worker.lease import LeaseKeeper

REF = WorkerRef("w-outage", "roomworker.x!1")
LEASE_SECONDS = 6.0  # renewals every 2 s when all is well


class FlakyWriter:
    """Fails with Redis's connection error until ``up`` is set; records successful renewals."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.renewed_at: list[float] = []
        self.rooms: list[Sequence[str]] = []

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        if not self.up.is_set():
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        self.renewed_at.append(time.monotonic())
        self.rooms.append(rooms)


async def test_a_failing_renewal_is_retried_within_half_a_second_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = FlakyWriter()
    health = RedisHealth()
    keeper = LeaseKeeper(
        writer, lambda: 0, lease_seconds=LEASE_SECONDS, stall_seconds=30.0, health=health
    )
    caplog.set_level(logging.INFO)
    keeper.start(REF)
    try:
        await asyncio.sleep(3.2)  # the first renewal at 2 s fails, then every 0.5 s
        assert health.down
        back = time.monotonic()
        writer.up.set()
        await asyncio.sleep(0.8)
        assert writer.renewed_at and writer.renewed_at[0] - back < 0.6
    finally:
        await keeper.stop()
    assert not health.down
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    outage_lines = [r for r in caplog.records if r.name == "rooms.outage"]
    assert [r.levelno for r in outage_lines] == [logging.WARNING, logging.INFO]


async def test_each_renewal_names_the_rooms_the_loop_last_stamped() -> None:
    """So that a lease written afresh after Redis lost everything restores their owners."""
    writer = FlakyWriter()
    writer.up.set()
    hosted = ["alpha"]
    keeper = LeaseKeeper(
        writer,
        lambda: 0,
        lease_seconds=0.3,
        stall_seconds=30.0,
        health=RedisHealth(),
        rooms=lambda: tuple(hosted),
    )
    keeper.start(REF)
    try:
        await asyncio.sleep(0.25)
        hosted.append("beta")
        keeper.stamp()  # as the worker does when its rooms change
        await asyncio.sleep(0.25)
    finally:
        await keeper.stop()
    assert writer.rooms[0] == ("alpha",)
    assert writer.rooms[-1] == ("alpha", "beta")
