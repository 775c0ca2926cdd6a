"""The idle clock: when a socket that sends nothing is due to close (Phoenix's ``:timeout``).

It keeps time only; the socket checks it when its timer message arrives and arms a
new timer for what remains.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class IdleClock:
    """How long is left before ``timeout`` seconds pass without ``touch``."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._last_touch = clock()

    def touch(self) -> None:
        self._last_touch = self._clock()

    def remaining(self) -> float:
        """Seconds until the socket is idle; 0 or less means it is."""
        return self._last_touch + self.timeout - self._clock()
