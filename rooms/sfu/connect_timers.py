"""No squatting: a peer admitted but not connected is removed after a while.

One timer task per unconnected peer, owned here: ``stop`` cancels it (connect, removal),
``wait`` awaits every timer still running (the Room's close), so none outlives its room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rooms.sfu.members import Member
from rooms.tasks import spawn


class ConnectTimers:
    def __init__(self, timeout: float, on_expired: Callable[[Member], Awaitable[None]]) -> None:
        self._timeout = timeout
        self._on_expired = on_expired
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, member: Member) -> None:
        if member.connect_timer is None:
            task = spawn(self._run(member), name=f"connect-timer-{member.peer_id}")
            member.connect_timer = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def stop(self, member: Member) -> None:
        task, member.connect_timer = member.connect_timer, None
        # Never the running timer itself: it is removing its peer, which must finish.
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, member: Member) -> None:
        await asyncio.sleep(self._timeout)
        await self._on_expired(member)
