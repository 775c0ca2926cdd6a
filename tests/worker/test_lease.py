"""A room worker keeps its lease through a blocked event loop, and loses it to a stalled one.

Real Redis throughout. The worker's loop is the test's own loop, blocked by
synchronous calls; the web process that judges the lease is an OwnerMonitor on
a loop and a Redis client of its own, in another thread.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import TracebackType

import pytest
import shortuuid
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from rooms.registry.base import WorkerRef
from rooms.registry.local import LocalRegistry
from rooms.registry.redis import RedisLeaseWriter, RedisRegistry
from rooms.roomtypes import RoomOutbox
from rooms.web.monitor import OwnerMonitor
from rooms.worker.worker import RoomWorker
from tests.worker.fake_room import FakeRoom

pytestmark = pytest.mark.redis

LEASE_SECONDS = 1.0
# Three leases: the lease renewed from the loop is gone twice over by the end.
BLOCK_SECONDS = 3 * LEASE_SECONDS
STALL_SECONDS = 2.0
# The last pulse can be a tick (1 s) before the block starts; the keeper then
# renews for up to STALL_SECONDS and the lease lasts one more LEASE_SECONDS.
STALL_BLOCK_SECONDS = 1.0 + STALL_SECONDS + LEASE_SECONDS + 1.5


def _make_room(name: str, outbox: RoomOutbox) -> FakeRoom:
    return FakeRoom(name, outbox)


def sleep_blocking(seconds: float) -> None:
    """Block the running event loop: nothing else runs on it meanwhile."""
    time.sleep(seconds)


def spin_blocking(seconds: float) -> None:
    """Keep the running event loop busy in Python code, holding the GIL as forwarding does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


class WebProcessWatch:
    """An owner monitor watching one worker from its own thread, loop and Redis client.

    It checks every 0.1 s, as a web process's monitor does every second, and
    records when it declared the owner gone (``gone_after``, seconds after start).
    """

    def __init__(self, redis_url: str, prefix: str, owner: WorkerRef) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._owner = owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="web-process-watch")
        self._started = 0.0
        self.checks = 0
        self.gone_after: float | None = None

    def __enter__(self) -> WebProcessWatch:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # One more check after whatever the body did, so the verdict covers its end.
        seen = self.checks
        deadline = time.monotonic() + 5
        while self.checks == seen and self.gone_after is None and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._watch())

    async def _watch(self) -> None:
        registry = RedisRegistry.from_url(self._redis_url, self._prefix)
        monitor = OwnerMonitor(InMemoryChannelLayer())
        monitor.watch(room="leased", peer_id="p1", owner=self._owner, channel="peer.watch!1")
        await monitor.close()  # checks are driven here instead of by its timer
        try:
            while not self._stop.is_set():
                await monitor.check(registry)
                self.checks += 1
                if monitor.watched == 0:
                    self.gone_after = time.monotonic() - self._started
                    return
                await asyncio.sleep(0.1)
        finally:
            await registry.close()


class TimedLeaseWriter:
    """The real lease writer, noting when each renewal reached Redis (monotonic seconds)."""

    def __init__(self, writer: RedisLeaseWriter) -> None:
        self._writer = writer
        self.renewed_at: list[float] = []

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        self._writer.renew_lease(ref, load, lease_seconds, rooms)
        self.renewed_at.append(time.monotonic())

    def longest_gap(self, since: float) -> float:
        """The longest time without a renewal from ``since`` until now."""
        marks = [since, *(at for at in self.renewed_at if at > since), time.monotonic()]
        return max(later - earlier for earlier, later in itertools.pairwise(marks))

    def close(self) -> None:
        self._writer.close()


StartWorker = Callable[..., Awaitable[RoomWorker]]


@pytest.fixture
def prefix() -> str:
    return "leasetest-" + shortuuid.uuid()[:8]


@pytest.fixture
def lease_writer(clean_redis: str, prefix: str) -> Iterator[TimedLeaseWriter]:
    """The lease writer of ``manage.py roomworker``, on the test's Redis."""
    writer = TimedLeaseWriter(RedisLeaseWriter.from_url(clean_redis, prefix))
    yield writer
    writer.close()


@pytest.fixture
async def start_worker(
    clean_redis: str, prefix: str, lease_writer: TimedLeaseWriter
) -> AsyncIterator[StartWorker]:
    """Start room workers on the test's Redis, as ``manage.py roomworker`` does; stopped after."""
    registry = RedisRegistry.from_url(clean_redis, prefix)
    writer = lease_writer
    started: list[RoomWorker] = []

    async def start(
        *, stall_seconds: float = 30.0, lease_seconds: float = LEASE_SECONDS
    ) -> RoomWorker:
        worker = RoomWorker(
            InMemoryChannelLayer(),
            registry,
            _make_room,
            lease_seconds=lease_seconds,
            lease_writer=writer,
            stall_seconds=stall_seconds,
        )
        await worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop()
    await registry.close()


@pytest.mark.parametrize("block", [sleep_blocking, spin_blocking], ids=["sleep", "spin"])
async def test_a_loop_blocked_for_three_leases_keeps_its_lease(
    start_worker: StartWorker, clean_redis: str, prefix: str, block: Callable[[float], None]
) -> None:
    worker = await start_worker()
    assert worker.ref is not None
    with WebProcessWatch(clean_redis, prefix, worker.ref) as watch:
        block(BLOCK_SECONDS)
    assert watch.gone_after is None, f"worker declared gone {watch.gone_after:.1f} s in"
    assert watch.checks >= 5


async def test_a_loop_stalled_past_the_bound_loses_its_lease_and_regains_it_after(
    start_worker: StartWorker, clean_redis: str, prefix: str
) -> None:
    worker = await start_worker(stall_seconds=STALL_SECONDS)
    assert worker.ref is not None
    with WebProcessWatch(clean_redis, prefix, worker.ref) as watch:
        sleep_blocking(STALL_BLOCK_SECONDS)
    assert watch.gone_after is not None, "the stalled worker kept its lease"
    # The last pulse was stamped by start(), just before the block: the keeper went
    # on renewing for STALL_SECONDS of it, well past the lease.
    assert watch.gone_after >= STALL_SECONDS
    # Running again, the loop ticks and the keeper renews: the worker is live once more.
    registry = RedisRegistry.from_url(clean_redis, prefix)
    try:
        deadline = time.monotonic() + 5
        while not await registry.alive([worker.ref.worker_id]):
            assert time.monotonic() < deadline, "the lease never came back"
            await asyncio.sleep(0.05)
    finally:
        await registry.close()


async def test_stop_ends_the_keeper_thread_before_dropping_the_lease(
    start_worker: StartWorker, clean_redis: str, prefix: str
) -> None:
    worker = await start_worker()
    assert worker.ref is not None
    name = f"lease-keeper-{worker.ref.worker_id}"
    assert name in {thread.name for thread in threading.enumerate()}
    await worker.stop()
    assert name not in {thread.name for thread in threading.enumerate()}
    registry = RedisRegistry.from_url(clean_redis, prefix)
    try:
        # Longer than a renewal interval: nothing brings the lease back.
        await asyncio.sleep(LEASE_SECONDS)
        assert await registry.alive([worker.ref.worker_id]) == set()
    finally:
        await registry.close()


async def test_the_embedded_worker_keeps_its_lease_through_a_blocked_loop() -> None:
    """No Redis: the worker and the web code that watches it share one loop and registry."""
    registry = LocalRegistry()
    worker = RoomWorker(
        InMemoryChannelLayer(),
        registry,
        _make_room,
        lease_seconds=LEASE_SECONDS,
        lease_writer=registry,
        stall_seconds=30.0,
    )
    ref = await worker.start()
    try:
        sleep_blocking(BLOCK_SECONDS)
        # Judged before the loop runs anything else, as a monitor due at the same
        # moment may be: the worker's own tasks get no turn in between.
        assert await registry.alive([ref.worker_id]) == {ref.worker_id}
    finally:
        await worker.stop()


# The configured default, the one deployments get.
DEFAULT_LEASE_SECONDS = float(settings.VIDEOROOM["WORKER_LEASE_SECONDS"])
BUSY_SECONDS = 12.0


async def burn(seconds: float, *, burst: float, rest: float) -> None:
    """Keep the loop busy in Python code for ``burst`` s, let it breathe ``rest`` s, repeat.

    burst / (burst + rest) of a core, holding the GIL as a loop forwarding media does.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        spin_blocking(burst)
        await asyncio.sleep(rest)


# 90% of a core in three shapes: fine-grained, the 300 ms bursts of a busy room, and
# bursts longer than the lease itself (a lease renewed from the loop would lapse).
@pytest.mark.parametrize(
    ("burst", "rest"),
    [(0.009, 0.001), (0.3, 0.033), (1.8, 0.2)],
    ids=["9ms-bursts", "300ms-bursts", "1800ms-bursts"],
)
async def test_a_loop_kept_ninety_percent_busy_keeps_its_short_default_lease(
    start_worker: StartWorker,
    lease_writer: TimedLeaseWriter,
    clean_redis: str,
    prefix: str,
    burst: float,
    rest: float,
) -> None:
    """The short lease that makes a kill -9 visible in a second costs no false death:
    the keeper's thread gets the GIL from a spinning loop within a switch interval."""
    worker = await start_worker(lease_seconds=DEFAULT_LEASE_SECONDS)
    assert worker.ref is not None
    started = time.monotonic()
    with WebProcessWatch(clean_redis, prefix, worker.ref) as watch:
        await burn(BUSY_SECONDS, burst=burst, rest=rest)
    gap = lease_writer.longest_gap(started)
    assert watch.gone_after is None, f"worker declared gone {watch.gone_after:.1f} s in"
    assert watch.checks >= 10
    assert gap < DEFAULT_LEASE_SECONDS, f"{gap:.2f} s without a renewal"
