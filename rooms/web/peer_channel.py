"""PeerChannel: one peer in one room, on topic ``room:<name>`` (Membrane's peer_channel.ex).

Join: validate the topic and params, let the room's join policy decide (rooms.web.admission
around ``services.authorize_join``: PIN, token or session user, and the grants), claim the
room's owner in the registry, send ``room.join`` and leave the join pending until the
owner answers ``peer.joined`` / ``peer.join_refused`` (or a timer gives up). Then
``mediaEvent`` frames go to the owner and ``peer.media_event`` messages come back as
pushes. Every way out (leave, socket close, replacement, removal by the room) ends in
``terminate``.

Resume: a join whose params carry ``resume`` (the secret of an earlier join reply,
rooms/resume.py) sends ``room.resume`` instead, and the owner re-attaches that peer,
media session and all, to this channel. A resumable peer's socket closing without
``phx_leave`` sends a ``disconnected`` leave, which the owner turns into a detach for
the grace period (docs/protocol.md, "Resuming a peer").
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

import shortuuid
from channels.db import database_sync_to_async
from django.conf import settings

from rooms import messages, names, resume, services, strictjson
from rooms.display_names import check_display_name
from rooms.grants import PARTICIPANT, Grant, grant_names
from rooms.ice import ice_servers
from rooms.layers import LayerUnavailable
from rooms.limits import Limits
from rooms.messages import FINAL_REMOVALS, JoinRefusal, RemovalReason
from rooms.outage import OUTAGE_ERRORS, redis_health
from rooms.phoenix import (
    JOIN_PENDING,
    Channel,
    InvalidPayload,
    JoinError,
    JoinResult,
    Payload,
    StopKind,
    TerminateReason,
)
from rooms.phoenix.errors import ErrorCode, PhoenixError, UnknownEvent
from rooms.registry.base import WorkerRef
from rooms.roomtypes import JoinRefused
from rooms.web.admission import Admission, parse_credentials
from rooms.web.monitor import owner_monitor
from rooms.web.wiring import room_registry

logger = logging.getLogger(__name__)

MEDIA_EVENT = "mediaEvent"
# The join timer's message to this channel (never sent across the layer: the socket's
# timer message carries only an id, and this comes back through handle_info).
JOIN_TIMEOUT = "peer.join_timeout"

_REMOVAL_FOR: dict[TerminateReason, RemovalReason] = {
    TerminateReason.LEAVE: RemovalReason.LEFT,
    TerminateReason.DUPLICATE_JOIN: RemovalReason.REPLACED,
}


class PeerServices(Protocol):
    """What PeerChannel needs beyond the channel layer; tests pass fakes."""

    async def authorize(self, request: services.JoinRequest) -> services.JoinPolicy: ...

    async def claim(self, room: str) -> WorkerRef | None:
        """The room's owner, None without a live worker; JoinRefused if it cannot be known."""

    def watch(self, *, room: str, peer_id: str, owner: WorkerRef, channel: str) -> None: ...

    def unwatch(self, peer_id: str) -> None: ...


class DefaultPeerServices:
    """The database, this loop's registry (and embedded worker) and its owner monitor."""

    async def authorize(self, request: services.JoinRequest) -> services.JoinPolicy:
        # Not thread_sensitive: with it, every join's read would queue behind all other
        # sync work of the process in asgiref's one shared thread (admin views, and the
        # embedded worker's writes before it had a recorder). authorize_join is safe on
        # any thread: it uses no request or thread-bound state and opens no transaction
        # spanning calls; Django's connections are per thread, and database_sync_to_async
        # closes stale ones around the call in whichever thread runs it. Its one write,
        # a room created on first join, waits on SQLite's busy timeout like any other
        # process's write, and a creation race ends in IntegrityError, handled there.
        # The session user (scope["user"]) was loaded by AuthMiddleware at connect; its
        # permission checks query the database here, on this call's thread.
        authorize = database_sync_to_async(services.authorize_join, thread_sensitive=False)
        policy: services.JoinPolicy = await authorize(request)
        return policy

    async def claim(self, room: str) -> WorkerRef | None:
        try:
            return await (await room_registry()).claim_room(room)
        except OUTAGE_ERRORS as error:
            # Redis is unreachable: a refusal the client retries, not a crashed join.
            redis_health.failed("claiming a room", error)
            raise JoinRefused(JoinRefusal.UNAVAILABLE) from None

    def watch(self, *, room: str, peer_id: str, owner: WorkerRef, channel: str) -> None:
        owner_monitor().watch(room=room, peer_id=peer_id, owner=owner, channel=channel)

    def unwatch(self, peer_id: str) -> None:
        owner_monitor().unwatch(peer_id)


def parse_join_params(params: Payload, limits: Limits | None = None) -> dict[str, Any]:
    """The room metadata from join params; raise ValueError when they are unusable.

    Unknown keys are ignored: Membrane clients send extras such as ``isSimulcastOn``.
    The bounds are ``Limits.display_name_chars`` and ``endpoint_metadata_bytes``.
    ``displayName`` is optional: the Membrane videoroom's room.ts joins with no params and
    names itself in ``connect`` metadata (rooms.display_names).
    """
    limits = limits or settings.VIDEOROOM_LIMITS
    display_name = params.get("displayName")
    if display_name is not None:
        display_name = check_display_name(display_name, limits.display_name_chars)
    metadata = params.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata must be an object")
    if strictjson.encoded_size(metadata) > limits.endpoint_metadata_bytes:
        raise ValueError(f"metadata must be at most {limits.endpoint_metadata_bytes} bytes as JSON")
    # The validated name wins over one smuggled in through metadata; without one, none is kept.
    checked = {key: value for key, value in metadata.items() if key != "displayName"}
    if display_name is not None:
        checked["displayName"] = display_name
    return checked


class PeerChannel(Channel):
    """Joins the room named by the topic and relays media events both ways."""

    services: PeerServices = DefaultPeerServices()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room = ""
        self.peer_id = ""
        self.owner: WorkerRef | None = None
        self._metadata: dict[str, Any] = {}
        self._max_participants = 0
        self._grants: frozenset[Grant] = PARTICIPANT
        # The client asked for a resume secret (join param ``resumable``).
        self._resumable = False
        # This join takes back an existing peer (join param ``resume``).
        self._resuming = False
        self._identity = ""
        # True from room.join until the owner is known to have forgotten the peer.
        self._in_room = False
        # True while the join waits for the owner; whoever flips it first settles the join.
        self._waiting = False
        self._retried = False
        self._in_group = False
        self._timer: int | None = None

    async def join(self, params: Payload) -> JoinResult:
        try:
            self.room = names.room_name_from_topic(self.topic)
        except names.InvalidRoomName as error:
            raise JoinError(JoinRefusal.INVALID_ROOM, detail=str(error)) from None
        if "resume" in params:
            return await self._resume(params["resume"])
        resumable = params.get("resumable", False)
        if not isinstance(resumable, bool):
            raise JoinError(JoinRefusal.INVALID_PARAMS, detail="resumable must be a boolean")
        self._resumable = resumable
        scope = self.host.scope
        try:
            self._metadata = parse_join_params(params)
            credentials = parse_credentials(params, scope)
        except ValueError as error:
            raise JoinError(JoinRefusal.INVALID_PARAMS, detail=str(error)) from None
        self.peer_id = shortuuid.uuid()
        admission = Admission(room=self.room, scope=scope, limits=settings.VIDEOROOM_LIMITS)
        try:
            policy = await admission.decide(
                self.services.authorize,
                credentials,
                peer_id=self.peer_id,
                display_name=str(self._metadata.get("displayName", "")),
            )
        except JoinRefused as refused:
            logger.info(
                "room %s peer %s: join refused (%s) for %s",
                self.room,
                self.peer_id,
                refused.reason,
                admission.address,
            )
            self.peer_id = ""  # never admitted: terminate has nothing to forget
            raise JoinError(refused.reason) from None
        self._max_participants = policy.max_participants
        self._grants = policy.grants
        self._identity = policy.identity
        if policy.display_name:
            # A signed token's name wins over the one the client gave.
            self._metadata["displayName"] = policy.display_name
        owner = await self._claim_owner()
        self._wait_for_owner()
        try:
            await self._send_join(owner)
        except LayerUnavailable:
            await self._abandon_wait()
            raise JoinError(JoinRefusal.UNAVAILABLE) from None
        return JOIN_PENDING

    async def _resume(self, secret: object) -> JoinResult:
        """Take back the peer a resume secret names; no database read: the secret is the
        proof of admission, and the room's owner decides whether the peer is still there."""
        try:
            self.peer_id, self._grants = resume.peer_of_secret(secret, self.room)
        except resume.InvalidResume as error:
            raise JoinError(JoinRefusal.RESUME_REFUSED, detail=str(error)) from None
        self._resuming = self._resumable = True
        owner = await self._claim_owner()
        self._wait_for_owner()
        self.owner = owner
        logger.info(
            "room %s peer %s: resuming via worker %s", self.room, self.peer_id, owner.worker_id
        )
        # Not in the room until the owner says so: a refused resume must send no leave.
        try:
            await self.channel_layer.send(
                owner.channel, messages.room_resume(self.room, self.peer_id, self.channel_name)
            )
        except LayerUnavailable:
            await self._abandon_wait()
            raise JoinError(JoinRefusal.UNAVAILABLE) from None
        return JOIN_PENDING

    async def _claim_owner(self) -> WorkerRef:
        try:
            owner = await self.services.claim(self.room)
        except JoinRefused as refused:
            raise JoinError(refused.reason) from None
        if owner is None:
            logger.warning("room %s peer %s: no live room worker", self.room, self.peer_id)
            raise JoinError(JoinRefusal.UNAVAILABLE)
        return owner

    def _wait_for_owner(self) -> None:
        self._waiting = True
        # The timer posts JOIN_TIMEOUT back to this channel (handle_info), so the join is
        # settled in the socket's dispatch loop whichever comes first.
        self._timer = self.send_after(
            settings.VIDEOROOM["JOIN_TIMEOUT_SECONDS"],
            {"type": JOIN_TIMEOUT, "room": self.room, "peer_id": self.peer_id},
        )

    async def _abandon_wait(self) -> None:
        """The join could not be sent (Redis is away): no answer is coming."""
        self._waiting = False
        await self._cancel_timer()

    async def handle_in(self, event: str, payload: Payload) -> Payload | None:
        if event != MEDIA_EVENT:
            raise UnknownEvent(f"room {self.room} peer {self.peer_id}: no event {event!r}")
        data = payload.get("data")
        most = settings.VIDEOROOM_LIMITS.media_event_bytes
        if not isinstance(data, str) or len(data.encode("utf-8", "surrogatepass")) > most:
            raise InvalidPayload(
                f"room {self.room} peer {self.peer_id}: data must be a string of at most "
                f"{most} bytes (Limits.media_event_bytes)"
            )
        assert self.owner is not None  # set before the join could succeed
        try:
            await self.channel_layer.send(
                self.owner.channel, messages.room_media_event(self.room, self.peer_id, data)
            )
        except LayerUnavailable:
            # Redis is down: this event is lost and the client is told so; the call's
            # media (worker <-> browser, never through Redis) and the socket go on.
            raise PhoenixError(
                f"room {self.room} peer {self.peer_id}: the room cannot be reached",
                code=ErrorCode.UNAVAILABLE,
            ) from None
        # Media events get no reply, as in Membrane.
        return None

    async def handle_info(self, message: dict[str, Any]) -> None:
        if message.get("peer_id") != self.peer_id:
            # Only the type: a media event's data may hold ICE credentials.
            logger.debug(
                "room %s peer %s: dropped stale %s", self.room, self.peer_id, message.get("type")
            )
            return
        kind = message.get("type")
        if kind == "peer.joined":
            await self._joined()
        elif kind == "peer.join_refused":
            await self._refused(message)
        elif kind == JOIN_TIMEOUT:
            await self._expire_join()
        elif kind == "peer.media_event":
            await self.push(MEDIA_EVENT, {"data": message["data"]})
        elif kind == "peer.removed":
            self._in_room = False
            reason = RemovalReason(message["reason"])
            if self._waiting:
                # Removed before the join was answered (the worker is stopping): refuse it.
                self._waiting = False
                await self._cancel_timer()
                await self.refuse_join(JoinRefusal.UNAVAILABLE)
                return
            logger.info(
                "room %s peer %s: removed by the room (%s)", self.room, self.peer_id, reason
            )
            await self.stop(StopKind.CLOSE if reason in FINAL_REMOVALS else StopKind.ERROR)
        else:
            logger.warning("room %s peer %s: unexpected %s", self.room, self.peer_id, kind)

    async def terminate(self, reason: TerminateReason) -> None:
        self._waiting = False
        await self._cancel_timer()
        if self._in_room:
            await self._leave_room(_REMOVAL_FOR.get(reason, RemovalReason.DISCONNECTED))
        if self._in_group:
            self._in_group = False
            # Not removed while Redis is down: the entry expires with the group (group_expiry).
            with contextlib.suppress(LayerUnavailable):
                await self.channel_layer.group_discard(
                    names.group_for(self.room), self.channel_name
                )
        if self.peer_id:
            self.services.unwatch(self.peer_id)
        logger.info("room %s peer %s: channel ended (%s)", self.room, self.peer_id, reason)

    # --- join steps ----------------------------------------------------------

    async def _send_join(self, owner: WorkerRef) -> None:
        self.owner = owner
        self._in_room = True
        logger.info(
            "room %s peer %s: joining via worker %s", self.room, self.peer_id, owner.worker_id
        )
        try:
            await self.channel_layer.send(
                owner.channel,
                messages.room_join(
                    self.room,
                    self.peer_id,
                    self.channel_name,
                    self._metadata,
                    self._max_participants,
                    self._grants,
                    self._identity,
                    resumable=self._resumable,
                ),
            )
        except LayerUnavailable:
            self._in_room = False  # never sent: the owner has nothing to forget
            raise

    async def _joined(self) -> None:
        if not self._waiting:
            return
        self._waiting = False
        await self._cancel_timer()
        assert self.owner is not None
        # Only now in the room for a resume: from here on, closing must detach or leave.
        self._in_room = True
        try:
            await self.channel_layer.group_add(names.group_for(self.room), self.channel_name)
            self._in_group = True
        except LayerUnavailable:
            # Nothing sends to the group yet; the peer is in the room, which is what counts.
            logger.info("room %s peer %s: not added to the room's group", self.room, self.peer_id)
        self.services.watch(
            room=self.room, peer_id=self.peer_id, owner=self.owner, channel=self.channel_name
        )
        logger.info(
            "room %s peer %s: %s",
            self.room,
            self.peer_id,
            "resumed" if self._resuming else "joined",
        )
        # TURN credentials only now, for an admitted peer; the username names it.
        response: dict[str, Any] = {
            "peerId": self.peer_id,
            "iceServers": ice_servers(self.peer_id),
            "grants": grant_names(self._grants),
        }
        if self._resumable:
            response["resume"] = resume.resume_secret(self.room, self.peer_id, self._grants)
            response["resumed"] = self._resuming
        await self.reply_join(response)

    async def _refused(self, message: dict[str, Any]) -> None:
        if not self._waiting:
            return
        self._in_room = False
        if message.get("retry") and not self._retried and not self._resuming:
            # The owner we claimed does not own the room (stale registry): claim once more.
            self._retried = True
            try:
                owner = await self.services.claim(self.room)
                if owner is not None and self._waiting:
                    await self._send_join(owner)
                    return
            except (JoinRefused, LayerUnavailable):
                self._in_room = False  # refused below as the first owner refused it
        self._waiting = False
        await self._cancel_timer()
        reason = JoinRefusal(message["reason"])
        logger.info("room %s peer %s: join refused (%s)", self.room, self.peer_id, reason)
        await self.refuse_join(reason)

    async def _expire_join(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        self._waiting = False
        logger.warning("room %s peer %s: the room worker did not answer", self.room, self.peer_id)
        # The owner may still admit the peer later; make it forget the peer.
        await self._leave_room(RemovalReason.DISCONNECTED)
        await self.refuse_join(JoinRefusal.UNAVAILABLE)

    async def _leave_room(self, reason: RemovalReason) -> None:
        if self.owner is not None:
            try:
                await self.channel_layer.send(
                    self.owner.channel,
                    messages.room_leave(self.room, self.peer_id, reason, channel=self.channel_name),
                )
            except LayerUnavailable:
                # Lost with Redis: the worker removes the peer when its media fails.
                logger.info(
                    "room %s peer %s: leave not sent, the room cannot be reached",
                    self.room,
                    self.peer_id,
                )
        # Only once sent: if the send is cancelled, terminate sends it again (leaves are
        # idempotent on the worker).
        self._in_room = False

    async def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        self.cancel_timer(timer)
