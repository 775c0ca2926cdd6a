"""Reading a cluster's shared state from the test: Redis keys, the SQLite history, logs."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from tests.support.cluster import Cluster

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Stay:
    peer_id: str
    display_name: str
    left_at: str | None
    leave_reason: str


class Probe:
    """Reads the cluster's shared state directly: Redis keys and the SQLite history."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.redis = redis.Redis.from_url(cluster.redis_url, decode_responses=True)

    def owner_key(self, room: str) -> str:
        return f"{self.cluster.prefix}:owner:room.{room}"

    def peers_key(self, room: str) -> str:
        return f"{self.cluster.prefix}:peers:room.{room}"

    def worker_key(self, worker_id: str) -> str:
        return f"{self.cluster.prefix}:worker:{worker_id}"

    def exists(self, key: str) -> bool:
        return bool(self.redis.exists(key))

    def stays(self, room: str) -> list[Stay]:
        with sqlite3.connect(self.cluster.db_path, timeout=20) as db:
            rows = db.execute(
                "SELECT p.peer_id, p.display_name, p.left_at, p.leave_reason"
                " FROM rooms_participation p JOIN rooms_room r ON r.id = p.room_id"
                " WHERE r.name = ? ORDER BY p.id",
                (room,),
            ).fetchall()
        return [Stay(*row) for row in rows]

    def rooms_created(self, room: str) -> dict[str, int]:
        """How many times each worker's log says it created ``room``."""
        return {
            worker.worker_id: worker.log().count(f"room {room} created on worker")
            for worker in self.cluster.workers
        }

    def close(self) -> None:
        self.redis.close()


async def eventually(
    check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition"
) -> Any:
    """Poll a sync or async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)
