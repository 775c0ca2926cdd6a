"""The metrics and the health of a room worker; docs/operations.md lists them.

``attach(worker)`` is the one call the worker makes (in RoomWorker.start): it
registers the worker for scrape-time collection and returns the task that
measures event-loop lag and publishes live figures for the admin, which the
worker cancels with its other tasks. Gauges and media counters are computed
when scraped, on the worker's own loop (rooms/metrics/sampling.py); only lease
renewals and peer removals are counted where they happen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from rooms.metrics import figures as live_figures
from rooms.metrics import logs
from rooms.metrics.sampling import Totals, WorkerSample, sample_worker
from rooms.outage import OUTAGE_ERRORS, redis_health
from rooms.tasks import spawn

logger = logging.getLogger(__name__)

LEASE_RENEWALS = Counter(
    "videoroom_worker_lease_renewals",
    "Lease renewals by the worker's lease keeper thread, by outcome (ok, failed).",
    ["outcome"],
)
for _outcome in ("ok", "failed"):
    LEASE_RENEWALS.labels(outcome=_outcome)  # both series exist from the start
PEER_REMOVALS = Counter(
    "videoroom_worker_peer_removals",
    "Peers that left a room on this worker, by reason (left, media_failed, kicked, ...).",
    ["reason"],
)
MEDIA_FAILURES = Counter(
    "videoroom_worker_media_failures",
    "Peers removed because their ICE/DTLS connection failed or never came up.",
)
# How late a 0.5 s sleep on the worker's loop wakes up: media forwarding, SDP work
# and garbage collection all show here first.
LOOP_LAG_SECONDS = Histogram(
    "videoroom_worker_event_loop_lag_seconds",
    "Delay of a timer on the worker's event loop beyond its due time.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LAG_PROBE_SECONDS = 0.5
FIGURES_INTERVAL_SECONDS = 2.0
# A scrape waits this long for the worker's loop; a busier loop gets the last sample.
SCRAPE_TIMEOUT_SECONDS = 2.0


def lease_renewed(ok: bool) -> None:
    """Called by the lease keeper after each renewal attempt."""
    LEASE_RENEWALS.labels(outcome="ok" if ok else "failed").inc()
    if ok:
        _health.lease_renewed_at = time.monotonic()


def peer_removed(reason: object) -> None:
    """Called once per peer removal with its RemovalReason."""
    value = str(getattr(reason, "value", reason))
    PEER_REMOVALS.labels(reason=value).inc()
    if value == "media_failed":
        MEDIA_FAILURES.inc()


@dataclass
class _Health:
    lease_seconds: float = 0.0
    lease_renewed_at: float | None = None
    lag: float = 0.0
    lag_measured_at: float | None = None


_health = _Health()


def health(max_lag_seconds: float) -> tuple[bool, dict[str, Any]]:
    """Is this process's worker healthy: lease renewed within a lease, loop lag bounded."""
    now = time.monotonic()
    problems = []
    if _health.lease_renewed_at is None:
        problems.append("no lease renewed yet")
    elif now - _health.lease_renewed_at > _health.lease_seconds:
        problems.append(f"lease last renewed {now - _health.lease_renewed_at:.1f} s ago")
    if _health.lag_measured_at is None:
        problems.append("event loop not measured yet")
    elif now - _health.lag_measured_at > max_lag_seconds + LAG_PROBE_SECONDS:
        problems.append(f"event loop silent for {now - _health.lag_measured_at:.1f} s")
    elif _health.lag > max_lag_seconds:
        problems.append(f"event loop lag {_health.lag:.3f} s")
    return not problems, {"status": "ok" if not problems else "unhealthy", "problems": problems}


class _Attached:
    def __init__(self, worker: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.worker = weakref.ref(worker)
        self.loop = loop
        self.totals = Totals()
        self.last = WorkerSample()
        self.lock = threading.Lock()
        # One pass at a time: a pass that began before a peer joined and ended after a
        # later pass would otherwise retire that peer's counts while it still lives.
        self.sampling = asyncio.Lock()

    async def sample(self) -> WorkerSample:
        async with self.sampling:
            worker = self.worker()
            rooms = dict(worker.rooms) if worker is not None else {}
            sample = await sample_worker(rooms, self.totals)
            self.last = sample
            return sample

    def scrape(self) -> WorkerSample:
        """A fresh sample from the worker's loop; called from the metrics HTTP thread."""
        try:
            caller: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            caller = None
        if self.loop.is_closed() or caller is self.loop:
            return self.last  # waiting for our own loop from it would block it
        with self.lock:  # one sample in flight per worker, however many scrapers
            future = asyncio.run_coroutine_threadsafe(self.sample(), self.loop)
            try:
                return future.result(SCRAPE_TIMEOUT_SECONDS)
            except Exception:
                future.cancel()
                logger.warning("metrics: the worker's loop did not answer a scrape in time")
                return self.last


_attached: list[_Attached] = []


def attach(worker: Any, lease_seconds: float) -> asyncio.Task[None]:
    """Collect ``worker``'s metrics from now on; returns the task its owner must cancel."""
    _install()
    if getattr(worker, "ref", None) is not None:
        logs.set_worker_id(worker.ref.worker_id)
    _health.lease_seconds = lease_seconds
    _health.lease_renewed_at = time.monotonic()  # start() has just written the lease
    attached = _Attached(worker, asyncio.get_running_loop())
    _attached[:] = [a for a in _attached if a.worker() is not None and not a.loop.is_closed()]
    _attached.append(attached)
    return spawn(_run(attached), name="worker-metrics")


async def _run(attached: _Attached) -> None:
    try:
        await asyncio.gather(_measure_lag(), _publish_figures(attached))
    finally:
        if attached in _attached:
            _attached.remove(attached)
        await live_figures.close()


async def _measure_lag() -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_PROBE_SECONDS
        await asyncio.sleep(LAG_PROBE_SECONDS)
        lag = max(0.0, loop.time() - due)
        LOOP_LAG_SECONDS.observe(lag)
        _health.lag, _health.lag_measured_at = lag, time.monotonic()


async def _publish_figures(attached: _Attached) -> None:
    """Every 2 s: per-participant figures for the admin (rooms/metrics/figures.py)."""
    previous: dict[tuple[str, str], Any] = {}
    while True:
        await asyncio.sleep(FIGURES_INTERVAL_SECONDS)
        try:
            sample = await attached.sample()
            previous = live_figures.with_rates(sample.figures, previous)
            await live_figures.publish(sample.figures)
        except OUTAGE_ERRORS as error:
            # Redis is down; the next figures go out once it is back.
            redis_health.failed("publishing live figures", error)
        except Exception:
            logger.exception("metrics: could not publish live figures")


class WorkerCollector(Collector):
    """The scrape-time series of every worker attached in this process."""

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        samples = [a.scrape() for a in list(_attached) if a.worker() is not None]
        gauges = {
            "rooms": GaugeMetricFamily("videoroom_worker_rooms", "Rooms live on this worker."),
            "peers": GaugeMetricFamily("videoroom_worker_peers", "Peers in this worker's rooms."),
        }
        gauges["rooms"].add_metric([], sum(s.rooms for s in samples))
        gauges["peers"].add_metric([], sum(s.peers for s in samples))
        yield from gauges.values()
        published = GaugeMetricFamily(
            "videoroom_worker_published_tracks",
            "Tracks published by peers, by kind.",
            labels=["kind"],
        )
        subscribed = GaugeMetricFamily(
            "videoroom_worker_subscribed_tracks",
            "Subscriptions (one per published track and subscriber), by kind.",
            labels=["kind"],
        )
        for kind in ("audio", "video"):
            published.add_metric([kind], sum(s.published.get(kind, 0) for s in samples))
            subscribed.add_metric([kind], sum(s.subscribed.get(kind, 0) for s in samples))
        yield published
        yield subscribed
        for name, help_text in _COUNTER_HELP.items():
            family = CounterMetricFamily(f"videoroom_worker_{name}", help_text)
            family.add_metric([], sum(s.totals.get(name, 0) for s in samples))
            yield family


_COUNTER_HELP = {
    "received_packets": "RTP packets received from publishers (aiortc inbound-rtp).",
    "received_bytes": "Bytes received on peers' transports: RTP, RTCP and DTLS.",
    "forwarded_packets": "RTP packets forwarded to subscribers, retransmissions excluded.",
    "forwarded_bytes": "RTP payload bytes forwarded to subscribers (RTCP sender-report octets).",
    "nack_retransmissions": "Packets resent to subscribers in answer to their NACKs.",
    "keyframe_requests": "PLIs relayed to publishers (rate-limited per track).",
    "keyframe_wait_packets": "Video packets held back from new subscribers until a key frame.",
}

_installed = False


def _install() -> None:
    global _installed
    if not _installed:
        REGISTRY.register(WorkerCollector())
        _installed = True
