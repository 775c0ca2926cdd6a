"""One live Room inside a worker, with the queue that serialises its messages.

Messages for one room are handled one after another, in arrival order, so the
Room needs no locks; different rooms on the same worker proceed independently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer

from rooms import messages, services
from rooms.messages import JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused, PeerInfo, RoomLike

logger = logging.getLogger(__name__)

# Messages already queued when the worker stops are still handled, within this bound.
_DRAIN_SECONDS = 5.0
_STOP: dict[str, Any] = {"type": "host.stop"}
# Makes the loop run its idle check, after the Room removed a peer on its own.
_CHECK: dict[str, Any] = {"type": "host.check"}


class RoomHost:
    def __init__(
        self,
        room: RoomLike,
        layer: BaseChannelLayer,
        on_idle: Callable[[RoomHost], Awaitable[bool]],
        on_change: Callable[[RoomHost], Awaitable[None]],
    ) -> None:
        self.room = room
        self.name = room.name
        self._layer = layer
        self._on_idle = on_idle
        self._on_change = on_change
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"room-host-{self.name}")

    @property
    def has_pending(self) -> bool:
        return not self._queue.empty()

    def enqueue(self, message: dict[str, Any]) -> None:
        self._queue.put_nowait(message)

    def wake(self) -> None:
        """Have the loop check for an empty room (a removal it did not itself handle)."""
        self._queue.put_nowait(_CHECK)

    async def stop(self, reason: RemovalReason) -> None:
        """Finish queued messages, end the message loop, close the room (every peer told once)."""
        self._queue.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), _DRAIN_SECONDS)
        except TimeoutError:
            logger.warning("room %s: queued messages not drained in time", self.name)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.room.close(reason)

    async def _run(self) -> None:
        while True:
            message = await self._queue.get()
            if message is _STOP:
                return
            try:
                await self._handle(message)
            except Exception:
                logger.exception("room %s: error handling %s", self.name, message.get("type"))
            if not self.room.peers and self._queue.empty() and await self._on_idle(self):
                return

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "room.join":
            await self._join(message)
        elif kind == "room.media_event":
            await self.room.handle_media_event(message["peer_id"], message["data"])
        elif kind == "room.leave":
            await self.room.remove_peer(message["peer_id"], RemovalReason(message["reason"]))
        elif kind == "room.kick":
            await self.room.remove_peer(message["peer_id"], RemovalReason.KICKED)
        elif kind == "room.close":
            await self.room.close(RemovalReason.ROOM_CLOSED)

    async def _join(self, message: dict[str, Any]) -> None:
        peer_id = message["peer_id"]
        metadata = message["metadata"]
        peer = PeerInfo(
            peer_id=peer_id,
            channel=message["reply_channel"],
            display_name=str(metadata.get("displayName", "")),
            metadata=metadata,
            joined_at=datetime.now(UTC),
        )
        try:
            await self.room.add_peer(peer, max_participants=int(message["max_participants"]))
        except JoinRefused as refusal:
            logger.info("room %s peer %s refused: %s", self.name, peer_id, refusal.reason)
            await self._reply(
                peer.channel, messages.peer_join_refused(self.name, peer_id, refusal.reason)
            )
            return
        logger.info("room %s peer %s joined as %r", self.name, peer_id, peer.display_name)
        # Recorded before the reply, so that no leave can be recorded before its join.
        try:
            await database_sync_to_async(services.record_join)(
                self.name, peer_id, peer.display_name, peer.joined_at
            )
        except Exception:
            logger.exception("room %s peer %s: could not record the join", self.name, peer_id)
        await self._reply(peer.channel, messages.peer_joined(self.name, peer_id))
        await self._on_change(self)

    async def _reply(self, channel: str, message: Any) -> None:
        try:
            await self._layer.send(channel, message)
        except Exception:
            logger.exception("room %s: could not reply to %s", self.name, channel)


def refuse_unowned(room: str, peer_id: str) -> messages.PeerJoinRefused:
    """The answer to a join for a room this worker does not own."""
    return messages.peer_join_refused(room, peer_id, JoinRefusal.UNAVAILABLE, retry=True)
