"""The Redis channel layer, made to outlive a Redis outage (settings CHANNEL_LAYERS).

channels-redis raises out of ``receive`` when Redis is unreachable, and channels'
consumers then die: every websocket of every daphne closed on a 2 s Redis restart.
Here ``receive`` waits the outage out instead (retrying with backoff, reported once
through ``rooms.outage``), so sockets and the calls they carry stay up; ``send`` and
the group calls fail at once with ``LayerUnavailable``, which their callers turn
into a refusal (a join or media event answered ``unavailable``).

After an outage, channels-redis's pooled connections are all dead sockets, and its
pools are built without retries (redis-py's connection default is ``Retry(NoBackoff(),
0)``), so each stale connection failed the next command sent over it. Every connection
here retries a command once after a connection error, on a fresh socket: the first
message after Redis returns goes through.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from rooms.outage import OUTAGE_ERRORS, RedisHealth, redis_health

# Between receive attempts while Redis is unreachable: a restart is seen within 1 s.
RECEIVE_BACKOFF_MIN_SECONDS = 0.1
RECEIVE_BACKOFF_MAX_SECONDS = 1.0
# Connecting to a Redis that is down but whose host answers fails at once (refused);
# to a host that is gone, this bounds a send that waits for it.
CONNECT_TIMEOUT_SECONDS = 2.0


class LayerUnavailable(Exception):
    """The channel layer cannot reach Redis: the message was not sent."""


class ResilientRedisChannelLayer(RedisChannelLayer):
    """RedisChannelLayer whose receive survives an outage and whose sends fail fast."""

    health: RedisHealth = redis_health

    def create_pool(self, index: int) -> Any:
        host = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            # One more try on a new connection after a ConnectionError or TimeoutError.
            "retry": Retry(NoBackoff(), 1),
            **self.hosts[index],
        }
        return create_pool(host)

    async def receive(self, channel: str) -> dict[str, Any]:
        backoff = RECEIVE_BACKOFF_MIN_SECONDS
        while True:
            try:
                message: dict[str, Any] = await super().receive(channel)
            except OUTAGE_ERRORS as error:
                self.health.failed("channel layer receive", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECEIVE_BACKOFF_MAX_SECONDS)
                continue
            self.health.succeeded()
            return message

    async def _clean_receive_backup(self, index: int, channel: str) -> None:
        # channels-redis runs this as a task nobody awaits after each received message;
        # failing, it would end as asyncio's "Task exception was never retrieved" with a
        # traceback. What it leaves behind is a backup copy that Redis lost anyway (it
        # restarted), or one that the next receive on the channel moves back into the
        # queue, and so delivers twice: channels-redis delivers at least once.
        try:
            await super()._clean_receive_backup(index, channel)
        except OUTAGE_ERRORS as error:
            self.health.failed("channel layer cleanup", error)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await super().send(channel, message)
        except OUTAGE_ERRORS as error:
            raise self._unavailable("send", error) from None
        self.health.succeeded()

    async def group_add(self, group: str, channel: str) -> None:
        try:
            await super().group_add(group, channel)
        except OUTAGE_ERRORS as error:
            raise self._unavailable("group_add", error) from None
        self.health.succeeded()

    async def group_discard(self, group: str, channel: str) -> None:
        try:
            await super().group_discard(group, channel)
        except OUTAGE_ERRORS as error:
            raise self._unavailable("group_discard", error) from None
        self.health.succeeded()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await super().group_send(group, message)
        except OUTAGE_ERRORS as error:
            raise self._unavailable("group_send", error) from None
        self.health.succeeded()

    def _unavailable(self, what: str, error: BaseException) -> LayerUnavailable:
        self.health.failed(f"channel layer {what}", error)
        return LayerUnavailable(f"channel layer {what}: {error}")
