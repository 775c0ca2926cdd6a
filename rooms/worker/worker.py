"""The room worker: hosts one Room per live room it owns, speaks ``room.*``.

Consumers reach it only through the channel layer, on the channel name stored
in its registry lease, which its lease keeper (lease.py) renews from a thread
so that a busy loop does not lose it. It answers joins for rooms it owns, tears
a room down when its last peer leaves and, on stop, closes every room so that
its peers rejoin elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import shortuuid
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from django.conf import settings

from rooms import services
from rooms.messages import RemovalReason, room_leave
from rooms.metrics import worker as worker_metrics
from rooms.names import is_valid_room_name
from rooms.registry.base import LeaseWriter, LivePeer, Registry, WorkerRef, web_id_of
from rooms.roomtypes import PeerInfo, RoomLike, RoomOutbox
from rooms.worker.host import RoomHost, refuse_unowned
from rooms.worker.lease import LeaseKeeper
from rooms.worker.outbox import LayerOutbox

logger = logging.getLogger(__name__)

RoomFactory = Callable[[str, RoomOutbox], RoomLike]
_RECEIVE_BACKOFF_MIN = 0.1
_RECEIVE_BACKOFF_MAX = 2.0
# No lease renewal within this long after a receive error: longer than the
# largest backoff, so a worker that cannot receive keeps its renewals held.
_RECEIVE_ERROR_WINDOW = 2 * _RECEIVE_BACKOFF_MAX
_ROOM_TYPES = frozenset({"room.join", "room.leave", "room.media_event", "room.kick", "room.close"})


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
    ) -> None:
        """``lease_writer`` renews the lease in ``registry`` from the keeper's thread.

        A loop that has not run for ``stall_seconds`` no longer gets its lease renewed.
        """
        self._layer = layer
        self._registry = registry
        self._room_factory = room_factory
        self._lease_seconds = lease_seconds
        self._lease = LeaseKeeper(
            lease_writer,
            lambda: self.load,
            lease_seconds=lease_seconds,
            stall_seconds=stall_seconds,
        )
        self._hosts: dict[str, RoomHost] = {}
        # Creating, feeding and tearing down a room's host happen under its lock,
        # so a join never lands in a host that is being torn down.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.ref: WorkerRef | None = None

    @property
    def rooms(self) -> dict[str, RoomLike]:
        return {name: host.room for name, host in self._hosts.items()}

    @property
    def load(self) -> int:
        return sum(len(host.room.peers) for host in self._hosts.values())

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
        )

    async def start(self) -> WorkerRef:
        """Take a channel, publish the lease, start receiving. Returns this worker's ref."""
        channel = await self._layer.new_channel("roomworker.")
        self.ref = WorkerRef(worker_id=shortuuid.uuid()[:12], channel=channel)
        await self._registry.heartbeat(self.ref, 0, self._lease_seconds)
        self._lease.start(self.ref)
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="room-worker-receive"),
            asyncio.create_task(self._reap_loop(), name="room-worker-reaper"),
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
        for name, host in list(self._hosts.items()):
            await host.stop(reason)
            with contextlib.suppress(Exception):
                await self._registry.release_room(name, self.ref)
        self._hosts.clear()
        logger.info("room worker %s stopped (%s)", self.ref.worker_id, reason)

    async def _reap_loop(self) -> None:
        """Remove peers whose web process died without closing their sockets.

        A peer is judged only once it is older than a lease, which gives its web
        process time to publish the lease it keeps while it has joined peers.
        """
        while True:
            await asyncio.sleep(self._lease_seconds / 2)
            try:
                await self.reap_ghosts()
            except Exception:
                logger.exception("room worker: ghost check failed")

    async def reap_ghosts(self) -> int:
        """Queue a leave for every settled peer whose web process has no lease. Returns the count."""
        settled_before = datetime.now(UTC) - timedelta(seconds=self._lease_seconds)
        candidates = [
            (host, peer)
            for host in list(self._hosts.values())
            for peer in host.room.peers
            if peer.joined_at is not None and peer.joined_at < settled_before
        ]
        if not candidates:
            return 0
        alive = await self._registry.alive_web({web_id_of(peer.channel) for _, peer in candidates})
        ghosts = [(host, peer) for host, peer in candidates if web_id_of(peer.channel) not in alive]
        for host, peer in ghosts:
            logger.warning("room %s peer %s: its web process is gone", host.name, peer.peer_id)
            host.enqueue(dict(room_leave(host.name, peer.peer_id, RemovalReason.DISCONNECTED)))
        return len(ghosts)

    async def _receive_loop(self) -> None:
        assert self.ref is not None
        backoff = _RECEIVE_BACKOFF_MIN
        while True:
            try:
                message = await self._layer.receive(self.ref.channel)
            except Exception:
                # Redis went away or timed out; keep trying. While this lasts the
                # keeper stops renewing the lease, so other workers take over.
                self._lease.hold(_RECEIVE_ERROR_WINDOW)
                logger.exception("room worker %s: receive failed", self.ref.worker_id)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECEIVE_BACKOFF_MAX)
                continue
            backoff = _RECEIVE_BACKOFF_MIN
            try:
                await self._dispatch(message)
            except Exception:
                logger.exception(
                    "room worker %s: bad message %r", self.ref.worker_id, message.get("type")
                )

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        room = message.get("room")
        if kind not in _ROOM_TYPES or not isinstance(room, str) or not is_valid_room_name(room):
            logger.warning("room worker: dropping malformed message of type %r", kind)
            return
        async with self._locks[room]:
            host = self._hosts.get(room)
            if host is None:
                if kind != "room.join":
                    logger.debug("room %s: %s for a room not hosted here", room, kind)
                    return
                host = await self._create_host(room, message)
                if host is None:
                    return
            host.enqueue(message)

    async def _create_host(self, room: str, join: dict[str, Any]) -> RoomHost | None:
        assert self.ref is not None
        owner = await self._registry.owner(room)
        if owner != self.ref:
            await self._layer.send(join["reply_channel"], refuse_unowned(room, join["peer_id"]))
            return None
        closed = await database_sync_to_async(services.close_dangling_participations)(room)
        if closed:
            logger.info(
                "room %s: closed %s participations left open by a lost worker", room, closed
            )

        async def on_peer_left(peer: PeerInfo, reason: RemovalReason) -> None:
            await self._publish(room)
            host = self._hosts.get(room)
            if host is not None and not host.room.peers:
                # The Room may have removed the peer from its own task (media failure).
                host.wake()

        outbox = LayerOutbox(room, self._layer, on_peer_left)
        host = RoomHost(
            self._room_factory(room, outbox), self._layer, self._teardown, self._publish_host
        )
        self._hosts[room] = host
        logger.info("room %s created on worker %s", room, self.ref.worker_id)
        return host

    async def _publish_host(self, host: RoomHost) -> None:
        await self._publish(host.name)

    async def _publish(self, room: str) -> None:
        """Mirror the room's live peers and this worker's load into the registry."""
        assert self.ref is not None
        host = self._hosts.get(room)
        if host is None or self._stopping:
            return
        peers = [
            LivePeer(
                peer.peer_id,
                peer.display_name,
                (peer.joined_at.astimezone(UTC).isoformat() if peer.joined_at else ""),
            )
            for peer in host.room.peers
        ]
        try:
            await self._registry.set_live_peers(room, peers)
            await self._registry.heartbeat(self.ref, self.load, self._lease_seconds)
        except Exception:
            logger.exception("room %s: could not publish live peers", room)

    async def _teardown(self, host: RoomHost) -> bool:
        """Remove an empty, idle room everywhere. True if it was torn down."""
        assert self.ref is not None
        async with self._locks[host.name]:
            if self._hosts.get(host.name) is not host or host.room.peers or host.has_pending:
                return False
            del self._hosts[host.name]
            await host.room.close(RemovalReason.ROOM_CLOSED)
            await self._registry.release_room(host.name, self.ref)
        logger.info("room %s torn down on worker %s: last peer left", host.name, self.ref.worker_id)
        return True
