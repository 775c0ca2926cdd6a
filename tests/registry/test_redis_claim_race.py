"""RedisRegistry claims racing from separate clients: threads and processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import redis

from rooms.registry.base import WorkerRef
from rooms.registry.redis import RedisRegistry

pytestmark = pytest.mark.redis

ROOM = "contested"
WORKERS = [WorkerRef(f"w{i}", f"roomworker.w{i}!x") for i in range(5)]
CLAIMS_PER_CLIENT = 10
CLIENTS = 5  # 5 clients x 10 claims = 50 concurrent claims


async def _claims(url: str, prefix: str, start_at: float) -> list[str | None]:
    """One client's share of the race: wait for the common start, then claim at once."""
    registry = RedisRegistry.from_url(url, prefix)
    try:
        # Open every connection before the start line, so the claims overlap.
        await asyncio.gather(*(registry.live_workers() for _ in range(CLAIMS_PER_CLIENT)))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        owners = await asyncio.gather(
            *(registry.claim_room(ROOM) for _ in range(CLAIMS_PER_CLIENT))
        )
        return [owner.worker_id if owner else None for owner in owners]
    finally:
        await registry.close()


def claim_in_own_loop(url: str, prefix: str, start_at: float) -> list[str | None]:
    """Entry point for a thread or a spawned process: its own loop, its own client."""
    return asyncio.run(_claims(url, prefix, start_at))


async def _register_equal_workers(url: str, prefix: str) -> None:
    registry = RedisRegistry.from_url(url, prefix)
    try:
        for ref in WORKERS:
            # Equal loads, so each claimer's own candidate is a random worker.
            await registry.heartbeat(ref, 0, 60.0)
    finally:
        await registry.close()


def _stored_owner(url: str, prefix: str) -> str | None:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        value = client.get(f"{prefix}:owner:room.{ROOM}")
        return str(value) if value is not None else None
    finally:
        client.close()


async def test_claims_from_many_threads_with_separate_clients_agree(
    clean_redis: str, prefix: str
) -> None:
    await _register_equal_workers(clean_redis, prefix)
    start_at = time.time() + 1.0
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [
            pool.submit(claim_in_own_loop, clean_redis, prefix, start_at) for _ in range(CLIENTS)
        ]
        owners = [owner for future in futures for owner in future.result(timeout=60)]
    assert len(owners) == CLIENTS * CLAIMS_PER_CLIENT
    assert len(set(owners)) == 1
    assert owners[0] == _stored_owner(clean_redis, prefix)


async def test_claims_from_many_processes_with_separate_clients_agree(
    clean_redis: str, prefix: str
) -> None:
    await _register_equal_workers(clean_redis, prefix)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=CLIENTS, mp_context=context) as pool:
        # Spawned interpreters need a few seconds to import on a loaded machine;
        # warm them all up first so the claims really overlap.
        list(pool.map(time.sleep, [0.2] * CLIENTS))
        start_at = time.time() + 2.0
        futures = [
            pool.submit(claim_in_own_loop, clean_redis, prefix, start_at) for _ in range(CLIENTS)
        ]
        owners = [owner for future in futures for owner in future.result(timeout=120)]
    assert len(owners) == CLIENTS * CLAIMS_PER_CLIENT
    assert len(set(owners)) == 1
    assert owners[0] == _stored_owner(clean_redis, prefix)


async def test_lapsed_workers_are_pruned_from_the_worker_set(clean_redis: str, prefix: str) -> None:
    registry = RedisRegistry.from_url(clean_redis, prefix)
    try:
        await registry.heartbeat(WORKERS[0], 0, 0.3)
        await registry.heartbeat(WORKERS[1], 0, 60.0)
        await asyncio.sleep(0.8)
        assert [s.ref for s in await registry.live_workers()] == [WORKERS[1]]
    finally:
        await registry.close()
    client = redis.Redis.from_url(clean_redis, decode_responses=True)
    try:
        assert client.smembers(f"{prefix}:workers") == {WORKERS[1].worker_id}
    finally:
        client.close()
