"""Shared state of workers and rooms: Redis with REDIS_URL (or Sentinel), else process-local.

One registry per event loop: redis-py connections belong to the loop that made
them, and the embedded worker runs on the server's loop. This package only holds
state: nothing here starts a worker (rooms/web/wiring.py does, for the web side).
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from django.conf import settings

from rooms.redis_target import configured_target
from rooms.registry.base import LivePeer, Registry, WorkerRef, WorkerStatus
from rooms.registry.local import LocalRegistry
from rooms.registry.redis import RedisRegistry

__all__ = ["LivePeer", "Registry", "WorkerRef", "WorkerStatus", "get_registry", "uses_redis"]

_registries: WeakKeyDictionary[asyncio.AbstractEventLoop, Registry] = WeakKeyDictionary()


def uses_redis() -> bool:
    return configured_target() is not None


async def get_registry() -> Registry:
    """This loop's registry, made on first use; no other side effect."""
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        target = configured_target()
        if target is not None:
            registry = RedisRegistry.from_target(target, settings.VIDEOROOM["REDIS_PREFIX"])
        else:
            registry = LocalRegistry()
        _registries[loop] = registry
    return registry
