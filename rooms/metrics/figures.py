"""Live per-participant figures, from the room's worker to the admin.

The worker's metrics task (rooms/metrics/worker.py) samples every 2 s and publishes
each room's figures: into Redis under ``<prefix>:figures:<group>`` with a 10 s expiry
(any web process reads them, and a dead worker's figures vanish with it), or, in the
embedded default, into this process. The admin's JSON endpoint reads them back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from redis.asyncio import Redis

from rooms.metrics.sampling import PeerFigures
from rooms.names import group_for
from rooms.redis_target import configured_target

# Several publishing intervals: a figure older than this belongs to a worker that stopped.
EXPIRY_SECONDS = 10.0

_local: dict[str, tuple[float, list[dict[str, Any]]]] = {}
_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = WeakKeyDictionary()


def _key(room: str) -> str:
    return f"{settings.VIDEOROOM['REDIS_PREFIX']}:figures:{group_for(room)}"


def _redis() -> Redis | None:
    target = configured_target()
    if target is None:
        return None
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = target.async_client(decode_responses=True, socket_timeout=2)
    return client


def with_rates(
    current: list[PeerFigures], previous: dict[tuple[str, str], PeerFigures]
) -> dict[tuple[str, str], PeerFigures]:
    """Fill in bit rates against the previous sample of each peer; returns the new lookup."""
    for figures in current:
        before = previous.get((figures.room, figures.peer_id))
        if before is not None and figures.at > before.at:
            seconds = figures.at - before.at
            figures.bitrate_in = max(0, figures.bytes_in - before.bytes_in) * 8 / seconds
            figures.bitrate_out = max(0, figures.bytes_out - before.bytes_out) * 8 / seconds
    return {(f.room, f.peer_id): f for f in current}


async def publish(current: list[PeerFigures]) -> None:
    by_room: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for figures in current:
        by_room[figures.room].append(figures.as_json())
    client = _redis()
    if client is None:
        now = time.monotonic()
        for room in [r for r, (at, _) in _local.items() if now - at > EXPIRY_SECONDS]:
            del _local[room]  # a room torn down since: nothing else grows here
        for room, peers in by_room.items():
            _local[room] = (now, peers)
        return
    if by_room:
        async with client.pipeline(transaction=False) as pipe:
            for room, peers in by_room.items():
                pipe.set(_key(room), json.dumps(peers), px=int(EXPIRY_SECONDS * 1000))
            await pipe.execute()


async def read(room: str) -> list[dict[str, Any]]:
    """The latest figures of ``room``'s participants; empty when it is not live."""
    client = _redis()
    if client is None:
        stamped = _local.get(room)
        if stamped is None or time.monotonic() - stamped[0] > EXPIRY_SECONDS:
            _local.pop(room, None)
            return []
        return list(stamped[1])
    raw = await client.get(_key(room))
    return list(json.loads(raw)) if raw else []


async def close() -> None:
    """Release this loop's Redis connection (the worker stops)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
