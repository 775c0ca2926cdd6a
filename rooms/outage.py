"""Whether this process reaches Redis: one warning when an outage starts, one line when it ends.

Every part of a process that talks to Redis (the channel layer, the registry calls, the
lease keeper's thread, the owner monitor) reports here what its last call found. An
outage is expected operation, not a bug: callers that meet one log no traceback, they
report it here, and this module says it once. ``settling`` tells the checks that judge
other processes by their Redis records (the owner monitor, the worker's ghost reaper)
to wait: during an outage nothing can be read, and a Redis that restarted empty has lost
every lease and owner until their processes write them again (within a lease).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What an unreachable Redis raises: redis-py's own errors, and the OSError of a socket.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


def is_outage(error: BaseException) -> bool:
    """True for an error that means Redis could not be reached (not a bug of ours)."""
    return isinstance(error, OUTAGE_ERRORS)


class RedisHealth:
    """What this process's Redis calls last found, shared by its event loop and threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._recovered_at = -math.inf
        self.recoveries = 0  # outages ended so far; a change tells a poller to re-register

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, what: str, error: BaseException) -> None:
        """A call could not reach Redis; the first one of an outage is logged."""
        with self._lock:
            starting = self._down_since is None
            if starting:
                self._down_since = self._clock()
        if starting:
            logger.warning(
                "redis unreachable (%s: %s); retrying, and refusing what needs it meanwhile",
                what,
                error,
            )

    def succeeded(self) -> None:
        """A call reached Redis; the first one after an outage is logged."""
        if self._down_since is None:  # the common case, without the lock
            return
        with self._lock:
            since, self._down_since = self._down_since, None
            if since is None:
                return
            now = self._clock()
            self._recovered_at = now
            self.recoveries += 1
        logger.info("redis reachable again after %.1f s", now - since)

    def reset(self) -> None:
        """Forget every outage: a fresh start, for tests that share the process's tracker."""
        with self._lock:
            self._down_since = None
            self._recovered_at = -math.inf

    def settling(self, seconds: float) -> bool:
        """Redis is down, or came back less than ``seconds`` ago."""
        return self.down or self._clock() - self._recovered_at < seconds


# The process's one: every caller in a process shares what any of them found.
redis_health = RedisHealth()
