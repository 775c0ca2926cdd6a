"""Everyone a scenario starts, owned in one place: raw sockets, media bots, their addresses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import shortuuid

from rooms.limits import Limits
from tests.hostile.attacks import connect_event
from tests.hostile.media import Bots, counting_receivers
from tests.hostile.wire import JoinReply, LoopbackAddresses, RawPhoenix
from tests.support.daphne import DaphneServer

JOIN_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


class Peers:
    """Opens sockets and bots against one server; ``close`` ends every one of them."""

    def __init__(self, server: DaphneServer, limits: Limits) -> None:
        self.server = server
        self.limits = limits
        self.addresses = LoopbackAddresses()
        self.bots = Bots(server.socket_url)
        self.sockets: list[RawPhoenix] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def own(self, task: asyncio.Task[T]) -> asyncio.Task[T]:
        """Keep ``task``: if the scenario stops early, ``close`` cancels and awaits it."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        return self.own(asyncio.get_running_loop().create_task(coroutine))

    @staticmethod
    def room(prefix: str) -> str:
        """A room name no other scenario uses."""
        return f"{prefix}-{shortuuid.uuid()[:8]}"

    async def open(
        self, name: str, *, source: str | None = None, receive_buffer: int | None = None
    ) -> RawPhoenix:
        phoenix = await RawPhoenix.open(
            self.server.socket_url,
            name=name,
            source=source or self.addresses.next(),
            receive_buffer=receive_buffer,
        )
        self.sockets.append(phoenix)
        return phoenix

    async def join(
        self,
        room: str,
        name: str,
        *,
        source: str | None = None,
        timeout: float = JOIN_TIMEOUT_SECONDS,
    ) -> tuple[RawPhoenix, JoinReply]:
        phoenix = await self.open(name, source=source)
        return phoenix, await phoenix.join(f"room:{room}", {"displayName": name}, timeout)

    async def member(
        self, room: str, name: str, *, source: str | None = None, receive_buffer: int | None = None
    ) -> RawPhoenix:
        """A socket joined to ``room`` that sent ``connect`` and got ``connected`` (or text
        a browser could not parse, which the caller inspects)."""
        topic = f"room:{room}"
        phoenix = await self.open(name, source=source, receive_buffer=receive_buffer)
        reply = await phoenix.join(topic, {"displayName": name}, JOIN_TIMEOUT_SECONDS)
        assert reply.status == "ok", f"{name} could not join {room}: {reply}"
        await phoenix.media_event(topic, connect_event(name))
        await phoenix.wait_for(
            lambda: (
                "connected" in phoenix.media_event_types(topic) or bool(phoenix.received.unparsable)
            ),
            JOIN_TIMEOUT_SECONDS,
        )
        return phoenix

    async def discard(self, phoenix: RawPhoenix) -> None:
        """Close one socket now instead of at the end."""
        await phoenix.close()
        if phoenix in self.sockets:
            self.sockets.remove(phoenix)

    async def close(self) -> None:
        left = list(self._tasks)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
        self.sockets.clear()
        await self.bots.close()


@asynccontextmanager
async def peers_on(server: DaphneServer, limits: Limits) -> AsyncIterator[Peers]:
    """``Peers`` with the bots' receive counters installed; everyone closed on exit."""
    with counting_receivers():
        everyone = Peers(server, limits)
        try:
            yield everyone
        finally:
            await everyone.close()
