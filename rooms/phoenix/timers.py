"""Timers that post a message to the consumer instead of touching its state.

A timer is a task that sleeps, then sends ``{"type": "phoenix.timer", "id": n}`` to
the consumer's own channel through the channel layer. The consumer handles it in
its dispatch loop like any other message, so every state change happens there, one
at a time (Phoenix's ``Process.send_after(self(), ...)``). What a timer means stays
here, keyed by its id: a timer cancelled after its message was posted is dropped
when the message arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from channels.exceptions import ChannelFull

logger = logging.getLogger(__name__)

TIMER_MESSAGE = "phoenix.timer"
# A consumer's channel may be full (a flood of layer messages): try again this often.
RETRY_SECONDS = 0.1
# The layer cannot reach its backend (one of ``unavailable``): try again with backoff,
# so the timer fires late (once the backend is back) rather than never.
UNAVAILABLE_RETRY_MAX_SECONDS = 2.0

T = TypeVar("T")
Post = Callable[[dict[str, Any]], Awaitable[None]]


class Timers(Generic[T]):
    """A consumer's pending timers; ``T`` is what the consumer wants back when one fires.

    ``unavailable`` names the exceptions with which ``post`` says the layer cannot reach
    its backend for now (the application's layer knows them, this package does not): a
    timer meeting one retries with backoff instead of being lost.
    """

    def __init__(self, post: Post, unavailable: tuple[type[Exception], ...] = ()) -> None:
        self._post = post
        self._unavailable = unavailable
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[T, asyncio.Task[None]]] = {}

    def start(self, seconds: float, what: T) -> int:
        """Post a timer message after ``seconds``; returns the id to cancel it by."""
        timer_id = next(self._ids)
        task = asyncio.create_task(self._run(timer_id, seconds), name=f"phoenix-timer-{timer_id}")
        self._pending[timer_id] = (what, task)
        return timer_id

    def cancel(self, timer_id: int | None) -> None:
        """Forget a timer; its message, if already posted, will be dropped."""
        if timer_id is None:
            return
        entry = self._pending.pop(timer_id, None)
        if entry is not None and entry[1] is not asyncio.current_task():
            entry[1].cancel()

    def fired(self, message: dict[str, Any]) -> T | None:
        """What a timer message stands for, once; None for a cancelled or unknown timer."""
        timer_id = message.get("id")
        entry = self._pending.pop(timer_id, None) if isinstance(timer_id, int) else None
        return None if entry is None else entry[0]

    async def close(self) -> None:
        """Cancel and await every timer."""
        pending, self._pending = self._pending, {}
        tasks = [task for _, task in pending.values() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def __len__(self) -> int:
        return len(self._pending)

    async def _run(self, timer_id: int, seconds: float) -> None:
        await asyncio.sleep(seconds)
        backoff = RETRY_SECONDS
        while True:
            try:
                await self._post({"type": TIMER_MESSAGE, "id": timer_id})
                return
            except ChannelFull:
                await asyncio.sleep(RETRY_SECONDS)
            except self._unavailable:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, UNAVAILABLE_RETRY_MAX_SECONDS)
            except Exception:
                logger.exception("timer %s: could not post its message", timer_id)
                return
