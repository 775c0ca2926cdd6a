"""Doubles for PeerChannel unit tests: a socket-side host and the services."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer

from rooms.messages import JoinRefusal
from rooms.phoenix import Channel, Payload, StopKind, TerminateReason
from rooms.phoenix.channel import JoinState
from rooms.registry.base import WorkerRef
from rooms.roomtypes import JoinRefused
from rooms.services import JoinPolicy, JoinRequest


class FakeHost:
    """Records what a channel asks of its socket, and mimics its state changes."""

    channel_name = "consumer.test!1"

    def __init__(self) -> None:
        self.channel_layer = InMemoryChannelLayer(capacity=1000)
        self.scope: dict[str, Any] = {"client": ["127.0.0.1", 50000]}
        self.pushes: list[tuple[str, Payload]] = []
        self.join_replies: list[tuple[Payload | None, str]] = []
        self.stops: list[StopKind] = []
        self.timers: dict[int, asyncio.Task[None]] = {}
        self._timer_ids = 0

    async def push_frame(self, channel: Channel, event: str, payload: Payload) -> None:
        self.pushes.append((event, payload))

    async def finish_join(self, channel: Channel, response: Payload | None, reason: str) -> None:
        self.join_replies.append((response, reason))
        channel.state = JoinState.ENDED if response is None else JoinState.JOINED

    async def stop_channel(self, channel: Channel, kind: StopKind) -> None:
        self.stops.append(kind)
        channel.state = JoinState.ENDED
        await channel.terminate(TerminateReason.STOPPED)

    def start_timer(self, channel: Channel, seconds: float, message: dict[str, Any]) -> int:
        """As the socket: ``handle_info(message)`` after ``seconds``, unless cancelled."""

        async def fire() -> None:
            await asyncio.sleep(seconds)
            del self.timers[timer_id]
            await channel.handle_info(message)

        self._timer_ids += 1
        timer_id = self._timer_ids
        self.timers[timer_id] = asyncio.create_task(fire())
        return timer_id

    def cancel_timer(self, timer_id: int | None) -> None:
        task = self.timers.pop(timer_id, None) if timer_id is not None else None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def receive(self, channel: str, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.channel_layer.receive(channel), timeout)


class FakeServices:
    """Join policy per room, a list of owners handed out by claim(), recorded watches."""

    def __init__(self, owners: list[WorkerRef | None]) -> None:
        self.owners = owners
        self.claims = 0
        self.refusals: dict[str, JoinRefusal] = {}
        self.watches: dict[str, WorkerRef] = {}
        self.unwatched: list[str] = []

    async def authorize(self, request: JoinRequest) -> JoinPolicy:
        room = request.room_name
        if room in self.refusals:
            raise JoinRefused(self.refusals[room])
        return JoinPolicy(room_name=room, max_participants=5)

    async def claim(self, room: str) -> WorkerRef | None:
        owner = self.owners[min(self.claims, len(self.owners) - 1)]
        self.claims += 1
        return owner

    def watch(self, *, room: str, peer_id: str, owner: WorkerRef, channel: str) -> None:
        self.watches[peer_id] = owner

    def unwatch(self, peer_id: str) -> None:
        self.unwatched.append(peer_id)
