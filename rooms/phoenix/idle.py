"""The idle timer: close a socket that has sent nothing for a while (Phoenix's ``:timeout``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class IdleTimer:
    """Calls ``on_idle`` once ``timeout`` seconds pass without ``touch``."""

    def __init__(self, timeout: float, on_idle: Callable[[], Awaitable[None]]) -> None:
        self.timeout = timeout
        self._on_idle = on_idle
        self._last_touch = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.touch()
        self._task = asyncio.create_task(self._run(), name="phoenix-idle-timer")

    def touch(self) -> None:
        self._last_touch = time.monotonic()

    async def stop(self) -> None:
        """Cancel and await the timer; a no-op from inside ``on_idle``."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            remaining = self._last_touch + self.timeout - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(remaining)
        try:
            await self._on_idle()
        except Exception:
            logger.exception("idle timer: on_idle failed")
