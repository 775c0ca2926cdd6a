"""Fixtures for the multi-process suite: one cluster per module, sockets and state probes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import shortuuid

from rooms.registry.redis import RedisRegistry
from tests.multiprocess.client import PhoenixSocket
from tests.multiprocess.probe import Probe, eventually
from tests.support.cluster import Cluster, running_cluster


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """2 daphne + 2 room workers on a private redis-server and a migrated SQLite file."""
    with running_cluster(webs=2, workers=2) as running:
        yield running


@pytest.fixture(autouse=True)
def print_logs_on_failure(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[None]:
    yield
    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    if any(report is not None and report.failed for report in reports):
        print(f"\n----- cluster logs ({cluster.workdir}) -----\n{cluster.logs()}")


@pytest.fixture(autouse=True)
async def settled_cluster(cluster: Cluster) -> None:
    """Start each test from rest: every running worker live and idle, no live room.

    Sockets of the previous test close in its teardown; their rooms are torn
    down a moment later, and a killed worker's lease takes a while to lapse.
    """
    client = RedisRegistry.from_url(cluster.redis_url, cluster.prefix)

    async def at_rest() -> bool:
        statuses = await client.live_workers()
        running = {worker.worker_id for worker in cluster.live_workers}
        return (
            {status.ref.worker_id for status in statuses} == running
            and all(status.load == 0 for status in statuses)
            and not await client.live_rooms()
        )

    try:
        await eventually(at_rest, timeout=60, what="the cluster to settle")
    finally:
        await client.close()


@pytest.fixture
def room_name() -> str:
    """A room no other test uses."""
    return "mp-" + shortuuid.uuid()[:10]


@pytest.fixture
async def registry(cluster: Cluster) -> AsyncIterator[RedisRegistry]:
    """A registry client on the cluster's Redis, as a web process sees it."""
    client = RedisRegistry.from_url(cluster.redis_url, cluster.prefix)
    yield client
    await client.close()


OpenSockets = Callable[[int], Awaitable[list[PhoenixSocket]]]


@pytest.fixture
async def open_sockets(cluster: Cluster) -> AsyncIterator[OpenSockets]:
    """Open n websockets, alternating between the daphne processes; all closed afterwards."""
    opened: list[PhoenixSocket] = []

    async def open_n(count: int) -> list[PhoenixSocket]:
        webs = [web for web in cluster.webs if web.running]
        sockets = await asyncio.gather(
            *(
                PhoenixSocket.open(
                    webs[i % len(webs)].socket_url,
                    f"http://127.0.0.1:{webs[i % len(webs)].port}",
                    f"s{len(opened) + i}@{webs[i % len(webs)].name}",
                )
                for i in range(count)
            )
        )
        opened.extend(sockets)
        return list(sockets)

    yield open_n
    await asyncio.gather(*(socket.close() for socket in opened))


@pytest.fixture
def probe(cluster: Cluster) -> Iterator[Probe]:
    inspector = Probe(cluster)
    yield inspector
    inspector.close()
