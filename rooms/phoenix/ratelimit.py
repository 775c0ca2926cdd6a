"""Token buckets: the per-socket flood limit, and the join limits built on them."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows bursts of ``capacity`` events, refilled at ``rate`` tokens per second."""

    def __init__(
        self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def is_full(self) -> bool:
        """True once refilled to capacity: the bucket is then as good as a new one."""
        elapsed = self._clock() - self._stamp
        return self._tokens + elapsed * self.rate >= self.capacity

    def has_token(self) -> bool:
        """Whether ``take`` would succeed now, without spending anything."""
        elapsed = self._clock() - self._stamp
        return self._tokens + elapsed * self.rate >= 1.0

    def take(self) -> bool:
        """Spend one token if there is one; False means the event is over the limit."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class FloodGuard:
    """A socket's flood limit: a token bucket, and a count of refusals in a row.

    A client over the limit is first told "rate limited"; one that keeps sending
    after ``max_strikes`` refusals in a row is closed.
    """

    def __init__(self, burst: float, rate: float, max_strikes: int) -> None:
        self._bucket = TokenBucket(burst, rate)
        self._max_strikes = max_strikes
        self.strikes = 0

    def admit(self) -> bool:
        """Count one frame; False when it is over the limit."""
        if self._bucket.take():
            self.strikes = 0
            return True
        self.strikes += 1
        return False

    @property
    def exhausted(self) -> bool:
        """The client ignored ``max_strikes`` refusals: close the socket."""
        return self.strikes > self._max_strikes
