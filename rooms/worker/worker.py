"""The room worker: hosts one Room per live room it owns, speaks ``room.*``.

Consumers reach it only through the channel layer, on the channel name stored
in its registry lease, which its lease keeper (lease.py) renews from a thread
so that a busy loop does not lose it. Its receive loop only routes: each message
goes into its room's host (host.py), the room's one serialized owner, and a join
for a room not hosted here creates that host on the spot. Nothing the loop does
waits on a room, the registry or the database. On stop it closes every room so
that its peers rejoin elsewhere.

Through a Redis outage the rooms and their media go on (media never passes through
Redis); what needs Redis is refused or waits, logged once by ``rooms.outage``. When
Redis is back (possibly empty, having lost every key), the worker writes again its
lease, the owner records of its rooms and their live peers (``_restore_loop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import shortuuid
from channels.layers import BaseChannelLayer
from django.conf import settings

from rooms import messages
from rooms.layers import LayerUnavailable
from rooms.limits import Limits
from rooms.logtext import clip
from rooms.messages import JoinRefusal, RemovalReason, room_leave
from rooms.metrics import worker as worker_metrics
from rooms.names import is_valid_room_name
from rooms.outage import OUTAGE_ERRORS, RedisHealth, is_outage, redis_health
from rooms.registry.base import LeaseWriter, LivePeer, Registry, WorkerRef, web_id_of
from rooms.roomtypes import RoomLike, RoomOutbox
from rooms.tasks import spawn
from rooms.worker.host import RoomHost
from rooms.worker.lease import LeaseKeeper
from rooms.worker.outbox import LayerOutbox
from rooms.worker.recorder import ParticipationRecorder

logger = logging.getLogger(__name__)

RoomFactory = Callable[[str, RoomOutbox], RoomLike]
_RECEIVE_BACKOFF_MIN = 0.1
_RECEIVE_BACKOFF_MAX = 2.0
# No lease renewal within this long after a receive error: longer than the
# largest backoff, so a worker that cannot receive keeps its renewals held.
_RECEIVE_ERROR_WINDOW = 2 * _RECEIVE_BACKOFF_MAX
# How often the worker looks whether Redis came back after an outage, to rewrite what
# it holds there: well inside the 3 s in which joins must work again.
_RESTORE_POLL_SECONDS = 0.25
_ROOM_TYPES = frozenset(
    {"room.join", "room.resume", "room.leave", "room.media_event", "room.kick", "room.close"}
)
# What the message must satisfy beyond a type and a valid room name.
_CHECKS = {
    "room.join": messages.is_room_join,
    "room.resume": messages.is_room_resume,
    "room.leave": messages.is_room_leave,
}


class RoomWorker:
    def __init__(
        self,
        layer: BaseChannelLayer,
        registry: Registry,
        room_factory: RoomFactory,
        *,
        lease_seconds: float,
        lease_writer: LeaseWriter,
        stall_seconds: float,
        web_lease_seconds: float | None = None,
        limits: Limits | None = None,
        recorder: ParticipationRecorder | None = None,
        resume_grace_seconds: float = 0.0,
        health: RedisHealth = redis_health,
    ) -> None:
        """``lease_writer`` renews the lease in ``registry`` from the keeper's thread.

        A loop that has not run for ``stall_seconds`` no longer gets its lease renewed.
        ``web_lease_seconds`` (default: ``lease_seconds``) is the web processes' lease,
        which the ghost reaper judges their peers by.
        ``limits`` bounds each room's queue; ``recorder`` writes participation history.
        ``resume_grace_seconds`` is how long a resumable peer whose socket is gone is kept.
        """
        self.layer = layer
        self.resume_grace_seconds = resume_grace_seconds
        self._limits = limits if limits is not None else Limits()
        self.recorder = recorder or ParticipationRecorder(
            backlog=self._limits.participation_backlog
        )
        self._registry = registry
        self._room_factory = room_factory
        self._lease_seconds = lease_seconds
        self._web_lease_seconds = web_lease_seconds or lease_seconds
        self._health = health
        self._lease = LeaseKeeper(
            lease_writer,
            lambda: self.load,
            lease_seconds=lease_seconds,
            stall_seconds=stall_seconds,
            health=health,
            rooms=self._hosted_rooms,
        )
        # The host each room's messages are routed to, and the hosts still closing
        # their Room after leaving routing; both empty once every room is gone.
        self._hosts: dict[str, RoomHost] = {}
        self._retiring: dict[str, RoomHost] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.ref: WorkerRef | None = None

    @property
    def rooms(self) -> dict[str, RoomLike]:
        """Every Room this worker holds, including those still being torn down."""
        held = {name: host.room for name, host in self._retiring.items() if host.room}
        held.update((name, host.room) for name, host in self._hosts.items() if host.room)
        return held

    @property
    def load(self) -> int:
        return sum(len(room.peers) for room in self.rooms.values())

    def _hosted_rooms(self) -> tuple[str, ...]:
        """The rooms whose owner record a lease written afresh restores (registry._LEASE)."""
        return tuple(name for name, host in self._hosts.items() if host.room is not None)

    @classmethod
    def from_settings(
        cls,
        layer: BaseChannelLayer,
        registry: Registry,
        room_factory: RoomFactory,
        lease_writer: LeaseWriter,
    ) -> RoomWorker:
        """A worker with the lease timings of ``settings.VIDEOROOM``."""
        return cls(
            layer,
            registry,
            room_factory,
            lease_seconds=settings.VIDEOROOM["WORKER_LEASE_SECONDS"],
            lease_writer=lease_writer,
            stall_seconds=settings.VIDEOROOM["WORKER_STALL_SECONDS"],
            web_lease_seconds=settings.VIDEOROOM["WEB_LEASE_SECONDS"],
            limits=settings.VIDEOROOM_LIMITS,
            resume_grace_seconds=settings.VIDEOROOM["RESUME_GRACE_SECONDS"],
        )

    async def start(self) -> WorkerRef:
        """Take a channel, publish the lease, start receiving. Returns this worker's ref."""
        channel = await self.layer.new_channel("roomworker.")
        self.ref = WorkerRef(worker_id=shortuuid.uuid()[:12], channel=channel)
        await self._registry.heartbeat(self.ref, 0, self._lease_seconds)
        self._lease.start(self.ref)
        self.recorder.start()
        self._tasks = [
            spawn(self._receive_loop(), name="room-worker-receive"),
            spawn(self._reap_loop(), name="room-worker-reaper"),
            spawn(self._restore_loop(), name="room-worker-restore"),
            worker_metrics.attach(self, self._lease_seconds),
        ]
        logger.info("room worker %s started on %s", self.ref.worker_id, channel)
        return self.ref

    async def stop(self, reason: RemovalReason = RemovalReason.WORKER_SHUTDOWN) -> None:
        """Stop receiving, drop the lease, close every room with ``reason``."""
        if self.ref is None or self._stopping:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # The keeper's thread ends before the lease is deleted, so no renewal brings it
        # back; the lease goes before the rooms, so the peers' rejoins claim rooms on
        # live workers.
        await self._lease.stop()
        with contextlib.suppress(Exception):
            await self._registry.unregister(self.ref)
        hosts = [*self._hosts.values(), *self._retiring.values()]
        # Concurrently: one room slow to drain does not hold up the others.
        await asyncio.gather(*(self._stop_host(host, reason) for host in hosts))
        self._hosts.clear()
        self._retiring.clear()
        # Last: the rooms' final leaves are written before the worker is gone.
        await self.recorder.stop()
        logger.info("room worker %s stopped (%s)", self.ref.worker_id, reason)

    async def _stop_host(self, host: RoomHost, reason: RemovalReason) -> None:
        assert self.ref is not None
        await host.stop(reason)
        with contextlib.suppress(Exception):
            await self._registry.release_room(host.name, self.ref)

    async def _reap_loop(self) -> None:
        """Remove peers whose web process died without closing their sockets.

        A peer is judged only once it is older than a lease, which gives its web
        process time to publish the lease it keeps while it has joined peers. A
        resumable peer is detached rather than removed (host.py): it waits out the
        grace period for its page to reconnect through a live web process.
        """
        while True:
            await asyncio.sleep(self._web_lease_seconds / 2)
            if self._health.settling(self._web_lease_seconds):
                # Web leases are unreadable, or lost with a Redis that restarted empty
                # and not yet written again: every peer would look like a ghost.
                continue
            try:
                await self.reap_ghosts()
            except OUTAGE_ERRORS as error:
                self._health.failed("ghost check", error)
            except Exception:
                logger.exception("room worker: ghost check failed")

    async def _restore_loop(self) -> None:
        """After each Redis outage, write again what this worker holds in the registry."""
        restored = self._health.recoveries
        while True:
            await asyncio.sleep(_RESTORE_POLL_SECONDS)
            if self._health.recoveries == restored or self._health.down:
                continue
            try:
                await self.restore()
            except OUTAGE_ERRORS as error:
                self._health.failed("restoring the registry", error)
                continue
            except Exception:
                logger.exception("room worker: could not restore the registry")
            restored = self._health.recoveries

    async def restore(self) -> None:
        """Rewrite this worker's lease, its rooms' owner records and their live peers.

        Redis may have come back empty. Whichever writes the lease first, this or the
        lease keeper's thread, records the owners of the rooms hosted here in the same
        atomic step, so no join sees this worker live and one of its rooms without an
        owner. A room that another worker claimed meanwhile (a join that reached
        Redis before any lease of this worker did) is left to it, with a warning: its
        peers here keep their call, new joins go there.
        """
        assert self.ref is not None
        await self._registry.heartbeat(
            self.ref, self.load, self._lease_seconds, self._hosted_rooms()
        )
        for name, host in list(self._hosts.items()):
            if host.room is None:
                continue
            if not await self._registry.restore_room(name, self.ref):
                logger.warning("room %s: claimed by another worker while Redis was away", name)
                continue
            await self._registry.set_live_peers(name, [LivePeer.of(p) for p in host.room.peers])
        logger.info(
            "room worker %s: registry restored for %d rooms", self.ref.worker_id, len(self._hosts)
        )

    async def reap_ghosts(self) -> int:
        """Queue a leave for every settled peer whose web process has no lease. Returns the count."""
        settled_before = datetime.now(UTC) - timedelta(seconds=self._web_lease_seconds)
        candidates = [
            (host, peer)
            for host in list(self._hosts.values())
            for peer in (host.room.peers if host.room is not None else [])
            if peer.joined_at is not None and peer.joined_at < settled_before
        ]
        if not candidates:
            return 0
        alive = await self._registry.alive_web({web_id_of(peer.channel) for _, peer in candidates})
        ghosts = [
            (host, peer)
            for host, peer in candidates
            if web_id_of(peer.channel) not in alive
            and host.reapable(peer.peer_id, self._web_lease_seconds)
        ]
        for host, peer in ghosts:
            logger.warning("room %s peer %s: its web process is gone", host.name, peer.peer_id)
            leave = room_leave(
                host.name, peer.peer_id, RemovalReason.DISCONNECTED, channel=peer.channel
            )
            host.offer(dict(leave))
        return len(ghosts)

    async def _receive_loop(self) -> None:
        assert self.ref is not None
        backoff = _RECEIVE_BACKOFF_MIN
        while True:
            try:
                message = await self.layer.receive(self.ref.channel)
            except Exception as error:
                # The layer failed (rooms.layers waits out a Redis outage itself, so
                # this is another layer, or a failure of this worker's alone); keep
                # trying. While this lasts the keeper stops renewing the lease, so
                # other workers take over.
                self._lease.hold(_RECEIVE_ERROR_WINDOW)
                if is_outage(error):
                    self._health.failed(f"worker {self.ref.worker_id} receive", error)
                else:
                    logger.exception("room worker %s: receive failed", self.ref.worker_id)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECEIVE_BACKOFF_MAX)
                continue
            backoff = _RECEIVE_BACKOFF_MIN
            self._health.succeeded()
            try:
                await self._dispatch(message)
            except Exception:
                logger.exception(
                    "room worker %s: bad message %r", self.ref.worker_id, message.get("type")
                )

    # --- routing: never waits on a room, so one room never holds up another -----------

    async def _dispatch(self, message: dict[str, Any]) -> None:
        refusal = self._route(message)
        if refusal is not None:
            # One layer send, as for any reply; the room itself is not waited on.
            try:
                await self.layer.send(message["reply_channel"], refusal)
            except LayerUnavailable:
                logger.debug("room %s: refusal lost with Redis", message.get("room"))

    def _route(self, message: dict[str, Any]) -> messages.PeerJoinRefused | None:
        """Hand the message to its room's host; the refusal to send for a join it cannot take."""
        kind = message.get("type")
        room = message.get("room")
        if (
            kind not in _ROOM_TYPES
            or not isinstance(room, str)
            or not is_valid_room_name(room)
            or (kind in _CHECKS and not _CHECKS[kind](message))
        ):
            logger.warning("room worker: dropping malformed message of type %s", clip(kind))
            return None
        host = self._hosts.get(room)
        if host is None and kind == "room.resume":
            # Nothing hosted here to resume: the room moved or ended with the peer.
            return messages.peer_join_refused(room, message["peer_id"], JoinRefusal.RESUME_REFUSED)
        if host is None:
            if kind != "room.join":
                logger.debug("room %s: %s for a room not hosted here", room, kind)
                return None
            host = self._hosts[room] = RoomHost(
                room,
                self,
                queue_length=self._limits.room_queue_length,
                previous=self._retiring.get(room),
            )
        if host.offer(message) or kind not in ("room.join", "room.resume"):
            return None
        if kind == "room.join":
            self.recorder.refused(room, str(message.get("peer_id")), JoinRefusal.BUSY)
        return messages.peer_join_refused(room, message["peer_id"], JoinRefusal.BUSY)

    # --- HostSite: what hosts ask of their worker -------------------------------------

    async def owns(self, room: str, *, claim: bool) -> bool:
        if self.ref is None or self._stopping:
            return False
        if claim:
            return await self._registry.claim_room(room) == self.ref
        return await self._registry.owner(room) == self.ref

    def make_room(self, name: str, outbox: LayerOutbox) -> RoomLike:
        assert self.ref is not None
        room = self._room_factory(name, outbox)
        logger.info("room %s created on worker %s", name, self.ref.worker_id)
        return room

    def retire(self, host: RoomHost) -> None:
        if self._hosts.get(host.name) is host:
            del self._hosts[host.name]
            self._lease.stamp()  # the keeper no longer restores this room's owner
        # At most one per name: a successor waits for its predecessor before it can retire.
        self._retiring[host.name] = host

    async def finished(self, host: RoomHost, *, release: bool) -> None:
        assert self.ref is not None
        try:
            # A successor created while this host closed its Room waits for it and
            # inherits the ownership: releasing it now would let another worker claim
            # the room while the successor hosts it (DESIGN.md invariant 1). Without
            # one, a successor created during the release claims the room afresh.
            if release and not self._stopping and host.name not in self._hosts:
                host.released = True
                await self._registry.release_room(host.name, self.ref)
            if release:
                logger.info(
                    "room %s torn down on worker %s: last peer left", host.name, self.ref.worker_id
                )
        except OUTAGE_ERRORS as error:
            # Left in the registry: the next join comes here and recreates the room.
            self._health.failed(f"releasing room {host.name}", error)
        except Exception:
            logger.exception("room %s: could not release the room", host.name)
        finally:
            if self._retiring.get(host.name) is host:
                del self._retiring[host.name]

    async def publish(self, host: RoomHost) -> None:
        """Mirror the room's live peers and this worker's load into the registry."""
        assert self.ref is not None
        if host.room is None or self._hosts.get(host.name) is not host or self._stopping:
            return
        peers = [LivePeer.of(peer) for peer in host.room.peers]
        self._lease.stamp()
        try:
            await self._registry.set_live_peers(host.name, peers)
            await self._registry.heartbeat(
                self.ref, self.load, self._lease_seconds, self._hosted_rooms()
            )
        except OUTAGE_ERRORS as error:
            # restore() writes them again once Redis is back.
            self._health.failed(f"publishing room {host.name}", error)
        except Exception:
            logger.exception("room %s: could not publish live peers", host.name)
