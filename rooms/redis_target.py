"""Where this deployment's Redis is: one URL, or a master that Redis Sentinel names.

Every Redis client of the project (the channel layer, the registry, the lease keeper's
blocking client, the admin's live figures) is built here, so that ``REDIS_URL`` and
``VIDEOROOM_REDIS_SENTINELS`` (videoroom_project/config.py reads and validates both)
reach all of them the same way. With Sentinel, redis-py asks the sentinels for the
current master on each new connection; after a failover the old connections fail
with a ``ConnectionError`` (an outage to ``rooms.outage``), and the next ones reach
the new master.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis import Redis as BlockingRedis
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.sentinel import Sentinel as BlockingSentinel

# Asking a sentinel for the master: a sentinel that does not answer within this long is
# skipped for the next one.
SENTINEL_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class SentinelTarget:
    """A master monitored by Redis Sentinel, and how to reach the sentinels."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    # The master's password (requirepass), not the sentinels'; None without AUTH.
    password: str | None = None
    db: int = 0

    def _sentinel_kwargs(self) -> dict[str, Any]:
        return {
            "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
            "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
        }

    def _master_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        return {"password": self.password, "db": self.db, **options}

    def async_client(self, **options: Any) -> Redis:
        sentinel = Sentinel(list(self.sentinels), sentinel_kwargs=self._sentinel_kwargs())
        client: Redis = sentinel.master_for(self.master, **self._master_kwargs(options))
        return client

    def blocking_client(self, **options: Any) -> BlockingRedis:
        sentinel = BlockingSentinel(list(self.sentinels), sentinel_kwargs=self._sentinel_kwargs())
        client: BlockingRedis = sentinel.master_for(self.master, **self._master_kwargs(options))
        return client

    def layer_host(self, **options: Any) -> dict[str, Any]:
        """One entry of channels-redis's ``hosts``: its Sentinel form."""
        return {
            "sentinels": list(self.sentinels),
            "master_name": self.master,
            "sentinel_kwargs": self._sentinel_kwargs(),
            **self._master_kwargs(options),
        }


@dataclass(frozen=True)
class UrlTarget:
    """One Redis server at a ``redis://``, ``rediss://`` or ``unix://`` URL."""

    url: str

    def async_client(self, **options: Any) -> Redis:
        return Redis.from_url(self.url, **options)

    def blocking_client(self, **options: Any) -> BlockingRedis:
        client: BlockingRedis = BlockingRedis.from_url(self.url, **options)
        return client

    def layer_host(self, **options: Any) -> dict[str, Any]:
        return {"address": self.url, **options}


RedisTarget = UrlTarget | SentinelTarget


def configured_target() -> RedisTarget | None:
    """The settings' Redis (REDIS_URL first, then REDIS_SENTINEL); None: no Redis, embedded."""
    if settings.REDIS_URL:
        return UrlTarget(settings.REDIS_URL)
    sentinel: SentinelTarget | None = getattr(settings, "REDIS_SENTINEL", None)
    return sentinel
