"""A per-socket budget of warning lines, so one client cannot flood the log.

A client that sends a thousand bad frames gets a thousand error replies, but the
log gets the first few warnings of each minute and then one line counting the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

# Warnings one socket may write per window; bad input is logged "once" per case,
# and a handful per minute is enough to see what a client does wrong.
WARNINGS_PER_WINDOW = 10
WINDOW_SECONDS = 60.0


class LogBudget:
    """Logs at most ``per_window`` lines per ``window`` seconds, then counts the rest."""

    def __init__(
        self,
        logger: logging.Logger,
        name: str,
        per_window: int = WARNINGS_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self.name = name  # names the socket in the summary line
        self._per_window = per_window
        self._window = window
        self._clock = clock
        self._window_start = clock()
        self._logged = 0
        self.suppressed = 0

    def log(self, level: int, message: str, *args: Any) -> None:
        """Log the line if the window has room for it; count it otherwise."""
        now = self._clock()
        if now - self._window_start >= self._window:
            self.flush()
            self._window_start = now
            self._logged = 0
        if self._logged < self._per_window:
            self._logged += 1
            self._logger.log(level, message, *args)
        else:
            self.suppressed += 1

    def warning(self, message: str, *args: Any) -> None:
        self.log(logging.WARNING, message, *args)

    def flush(self) -> None:
        """Write the "suppressed" line for the lines counted since the last one."""
        if self.suppressed:
            self._logger.warning(
                "socket %s: suppressed %d more warnings", self.name, self.suppressed
            )
            self.suppressed = 0
