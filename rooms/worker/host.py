"""A room's owner inside a worker: one task and one bounded queue per room.

The host is the only thing that touches its Room, and it handles one message at a
time, in arrival order: joins, leaves, media events, kicks, closes, and the
removals the Room itself asks for (a media failure). So the Room needs no locks,
and a room whose handling is slow delays only itself.

Life of a host: created *claiming* by the worker's router for the first join of
a room it does not host; its task waits for a predecessor of the same name to
finish tearing down, checks in the registry that this worker owns the room and
queues the dangling-participation cleanup; then it is *live* and creates the
Room; when the Room is empty and nothing is queued it *retires*: leaves the
worker's routing table, closes the Room, releases the room in the registry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from channels.layers import BaseChannelLayer

from rooms import messages
from rooms.grants import parse_grants
from rooms.layers import LayerUnavailable
from rooms.logtext import clip
from rooms.messages import JoinRefusal, RemovalReason
from rooms.outage import OUTAGE_ERRORS, redis_health
from rooms.roomtypes import JoinRefused, PeerInfo, RoomLike
from rooms.tasks import spawn
from rooms.worker.detached import EXPIRED, DetachedPeers
from rooms.worker.outbox import LayerOutbox
from rooms.worker.recorder import ParticipationRecorder

logger = logging.getLogger(__name__)

# Messages already queued when the worker stops are still handled, within this bound.
_DRAIN_SECONDS = 5.0
# One log line per room per this many seconds about dropped media events.
_DROP_LOG_SECONDS = 10.0
# Host-internal messages; never built from layer input, never dropped.
_STOP: dict[str, Any] = {"type": "host.stop"}
_CHECK: dict[str, Any] = {"type": "host.check"}  # run the idle check
_REMOVE = "host.remove"  # the Room asked for a peer's removal
# What the bound refuses. Leaves, kicks, closes and removals always get in: each
# peer leaves by exactly one path that always runs (DESIGN.md invariant 2). They
# cannot flood the queue: a web process sends at most one leave per join it sent,
# and joins are both rate-limited per socket and bounded here; kicks and closes
# come from the admin.
_BOUNDED = frozenset({"room.join", "room.resume", "room.media_event"})


class HostState(StrEnum):
    CLAIMING = "claiming"
    LIVE = "live"
    RETIRED = "retired"


class HostSite(Protocol):
    """What a host needs from its worker."""

    layer: BaseChannelLayer
    recorder: ParticipationRecorder
    # How long a resumable peer whose socket is gone stays detached; 0 removes it at once.
    resume_grace_seconds: float

    async def owns(self, room: str, *, claim: bool) -> bool:
        """True if the registry names this worker the room's live owner.

        With ``claim``, an unowned room is claimed first (atomically, so it may go to
        another worker): for a host whose predecessor here has just released it.
        """

    def make_room(self, name: str, outbox: LayerOutbox) -> RoomLike: ...

    def retire(self, host: RoomHost) -> None:
        """Take the host out of routing; called without awaiting after its idle check."""

    async def finished(self, host: RoomHost, *, release: bool) -> None:
        """The retired host's Room is closed; release the room in the registry if asked."""

    async def publish(self, host: RoomHost) -> None:
        """Mirror the host's live peers into the registry."""


class RoomHost:
    def __init__(
        self,
        name: str,
        site: HostSite,
        *,
        queue_length: int,
        previous: RoomHost | None = None,
    ) -> None:
        self.name = name
        self.room: RoomLike | None = None
        self.state = HostState.CLAIMING
        self._site = site
        self._queue_length = queue_length
        self._previous = previous
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._handling = False
        self._closed = False
        self.released = False  # set by the worker once it released the room for this host
        self._dropped = 0
        self._drop_logged_at = -_DROP_LOG_SECONDS
        self._detached = DetachedPeers(site.resume_grace_seconds, self._queue.put_nowait)
        self._task = spawn(self._run(), name=f"room-host-{name}")

    def offer(self, message: dict[str, Any]) -> bool:
        """Queue a message; False for a join or media event past the queue bound."""
        if message.get("type") in _BOUNDED and self._queue.qsize() >= self._queue_length:
            if message.get("type") == "room.media_event":
                self._log_drop(message)
            return False
        self._queue.put_nowait(message)
        return True

    def reapable(self, peer_id: str, settle_seconds: float) -> bool:
        """False while the peer waits out its grace period, or was resumed within
        ``settle_seconds`` (its new web process may not have published its lease yet)."""
        return self._detached.settled(peer_id, settle_seconds)

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        """The Room's way to remove a peer: handled in order, like a leave (never dropped)."""
        self._queue.put_nowait({"type": _REMOVE, "peer_id": peer_id, "reason": reason.value})

    async def wait_finished(self) -> None:
        """Until the host's task has ended (for a successor; never cancels it)."""
        await asyncio.wait([self._task])

    async def stop(self, reason: RemovalReason) -> None:
        """Finish queued messages, end the task, close the room (every peer told once)."""
        if not self._task.done():
            self._queue.put_nowait(_STOP)
            _, pending = await asyncio.wait([self._task], timeout=_DRAIN_SECONDS)
            if pending:
                logger.warning("room %s: queued messages not drained in time", self.name)
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        await self._close(reason)

    # --- the task ----------------------------------------------------------------------

    async def _run(self) -> None:
        if not await self._claim():
            return
        while True:
            if self._idle():
                # No await between the idle check and leaving the routing table: a
                # message routed before it is in the queue (so not idle), one routed
                # after it goes to a new host, which waits for this one to finish.
                self.state = HostState.RETIRED
                self._site.retire(self)
                try:
                    await self._close(RemovalReason.ROOM_CLOSED)
                finally:
                    await self._site.finished(self, release=True)
                return
            message = await self._queue.get()
            if message is _STOP:
                return
            self._handling = True
            try:
                await self._handle(message)
            except Exception:
                logger.exception("room %s: error handling %s", self.name, message.get("type"))
            finally:
                self._handling = False

    def _idle(self) -> bool:
        return self.room is not None and not self.room.peers and self._queue.empty()

    async def _claim(self) -> bool:
        """Become the room's live host, or refuse what is queued and retire."""
        # Joins queued here were sent by web processes that found this worker the
        # owner; if the predecessor released the room meanwhile (its last peer left
        # while they were in flight), claim it again rather than refuse them all.
        reclaim = False
        if self._previous is not None:
            await self._previous.wait_finished()
            reclaim, self._previous = self._previous.released, None
        try:
            owned = await self._site.owns(self.name, claim=reclaim)
        except OUTAGE_ERRORS as error:
            redis_health.failed(f"room {self.name} owner check", error)
            await self._give_up(JoinRefusal.UNAVAILABLE, retry=False)
            return False
        except Exception:
            logger.exception("room %s: could not read the room's owner", self.name)
            await self._give_up(JoinRefusal.UNAVAILABLE, retry=False)
            return False
        if not owned:
            await self._give_up(JoinRefusal.UNAVAILABLE, retry=True)
            return False
        # Queued before any of this host's joins, so it never closes one of them.
        self._site.recorder.cleanup(self.name)
        outbox = LayerOutbox(
            self.name,
            self._site.layer,
            self._site.recorder,
            request_removal=self.request_removal,
            on_peer_left=self._peer_left,
            is_detached=self._detached.__contains__,
        )
        self.room = self._site.make_room(self.name, outbox)
        self.state = HostState.LIVE
        return True

    async def _give_up(self, reason: JoinRefusal, *, retry: bool) -> None:
        # Out of routing first, then answer what was queued: nothing new arrives meanwhile.
        self.state = HostState.RETIRED
        self._site.retire(self)
        while not self._queue.empty():
            message = self._queue.get_nowait()
            if message.get("type") == "room.join":
                refusal = messages.peer_join_refused(
                    self.name, message["peer_id"], reason, retry=retry
                )
                await self._reply(message["reply_channel"], refusal)
            elif message.get("type") == "room.resume":
                refusal = messages.peer_join_refused(
                    self.name, message["peer_id"], JoinRefusal.RESUME_REFUSED
                )
                await self._reply(message["reply_channel"], refusal)
        await self._site.finished(self, release=False)

    async def _close(self, reason: RemovalReason) -> None:
        self._detached.clear()
        if self.room is not None and not self._closed:
            self._closed = True
            try:
                await self.room.close(reason)
            except Exception:
                logger.exception("room %s: error closing the room", self.name)

    # --- messages ----------------------------------------------------------------------

    async def _handle(self, message: dict[str, Any]) -> None:
        assert self.room is not None
        kind = message["type"]
        if kind == "room.join":
            await self._join(message)
        elif kind == "room.media_event":
            await self.room.handle_media_event(message["peer_id"], message["data"])
        elif kind == "room.resume":
            await self._resume(message)
        elif kind == "room.leave":
            await self._leave(message)
        elif kind == _REMOVE:
            await self.room.remove_peer(message["peer_id"], RemovalReason(message["reason"]))
        elif kind == EXPIRED:
            peer_id = self._detached.expire(message)
            if peer_id is not None:
                logger.info("room %s peer %s: not resumed in time", self.name, peer_id)
                await self.room.remove_peer(peer_id, RemovalReason.DISCONNECTED)
        elif kind == "room.kick":
            await self.room.remove_peer(message["peer_id"], RemovalReason.KICKED)
        elif kind == "room.close":
            await self.room.close(RemovalReason.ROOM_CLOSED)

    async def _join(self, message: dict[str, Any]) -> None:
        assert self.room is not None
        peer_id = message["peer_id"]
        metadata = message["metadata"]
        peer = PeerInfo(
            peer_id=peer_id,
            channel=message["reply_channel"],
            display_name=str(metadata.get("displayName", "")),
            metadata=metadata,
            joined_at=datetime.now(UTC),
            grants=parse_grants(message["grants"]),
            identity=str(message.get("identity", "")),
            resumable=bool(message.get("resumable", False)),
        )
        try:
            await self.room.add_peer(peer, max_participants=int(message["max_participants"]))
        except JoinRefused as refusal:
            self._site.recorder.refused(self.name, peer_id, refusal.reason, peer.display_name)
            await self._reply(
                peer.channel, messages.peer_join_refused(self.name, peer_id, refusal.reason)
            )
            return
        logger.info("room %s peer %s joined as %s", self.name, peer_id, clip(peer.display_name))
        # Handed to the recorder before any leave of this peer can be: written in order.
        self._site.recorder.joined(self.name, peer)
        await self._reply(peer.channel, messages.peer_joined(self.name, peer_id))
        await self._site.publish(self)

    async def _leave(self, message: dict[str, Any]) -> None:
        """Remove the peer, or detach it for the grace period if its socket just went away."""
        assert self.room is not None
        peer_id, reason = message["peer_id"], RemovalReason(message["reason"])
        peer = next((p for p in self.room.peers if p.peer_id == peer_id), None)
        if peer is None:
            return
        channel = message.get("channel")
        if channel is not None and channel != peer.channel:
            # From a socket the peer has left behind by resuming: about nobody now.
            logger.debug("room %s peer %s: leave from an old channel ignored", self.name, peer_id)
            return
        if (
            reason is RemovalReason.DISCONNECTED
            and self._detached.grace_seconds > 0
            and self.room.can_resume(peer_id)
        ):
            if peer_id not in self._detached:
                logger.info(
                    "room %s peer %s: detached, kept %ss for a resume",
                    self.name,
                    peer_id,
                    self._detached.grace_seconds,
                )
                self._detached.detach(peer_id, peer.channel)
            return
        await self.room.remove_peer(peer_id, reason)

    async def _resume(self, message: dict[str, Any]) -> None:
        """Re-attach a peer to the channel that proved it holds its resume secret."""
        assert self.room is not None
        peer_id, channel = message["peer_id"], message["reply_channel"]
        if not self.room.can_resume(peer_id):
            logger.info("room %s peer %s: nothing to resume", self.name, peer_id)
            await self._reply(
                channel,
                messages.peer_join_refused(self.name, peer_id, JoinRefusal.RESUME_REFUSED),
            )
            return
        self._detached.attach(peer_id)
        previous = self.room.reattach(peer_id, channel)
        if previous != channel:
            # A consumer still holding the peer (its socket not yet noticed as dead, or the
            # secret used from a second tab) lets go of it and does not rejoin.
            await self._reply(
                previous, messages.peer_removed(self.name, peer_id, RemovalReason.REPLACED)
            )
        await self._reply(channel, messages.peer_joined(self.name, peer_id))
        await self.room.resync(peer_id)

    async def _peer_left(self, peer: PeerInfo, reason: RemovalReason) -> None:
        self._detached.forget(peer.peer_id)
        await self._site.publish(self)
        if not self._handling and self.room is not None and not self.room.peers:
            # Removed outside this host's own handling (a Room breaking the
            # request_removal contract): still run the idle check.
            self._queue.put_nowait(_CHECK)

    async def _reply(self, channel: str, message: Any) -> None:
        try:
            await self._site.layer.send(channel, message)
        except LayerUnavailable:
            # Redis is down (said once by rooms.outage); the join times out on its side.
            logger.debug("room %s: reply to %s lost with Redis", self.name, channel)
        except Exception:
            logger.exception("room %s: could not reply to %s", self.name, channel)

    def _log_drop(self, message: dict[str, Any]) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._drop_logged_at >= _DROP_LOG_SECONDS:
            logger.warning(
                "room %s: queue full (%s), dropped %s media events (latest from peer %s)",
                self.name,
                self._queue_length,
                self._dropped,
                clip(message.get("peer_id")),
            )
            self._drop_logged_at = now
            self._dropped = 0
