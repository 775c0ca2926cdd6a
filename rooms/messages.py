"""Channel-layer messages between socket consumers and room workers.

Declared once here; both sides build and read them only through this module.
Types are namespaced: ``room.*`` goes to a room's owner (a worker's channel),
``peer.*`` goes to one peer's consumer (its channel name). Payloads are plain
str/int/float/bool/None/dict/list values, so they are msgpack-safe.
Nothing here is built from client input except validated values.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

from rooms.grants import PARTICIPANT, Grant, grant_names, parse_grants


class RemovalReason(StrEnum):
    """Why a peer left its room; stored in the participation history."""

    LEFT = "left"  # phx_leave
    DISCONNECTED = "disconnected"  # websocket closed
    REPLACED = "replaced"  # a second join of the same topic on the same socket
    KICKED = "kicked"  # admin action
    ROOM_CLOSED = "room_closed"  # admin action
    MEDIA_FAILED = "media_failed"  # ICE or DTLS failure
    WORKER_SHUTDOWN = "worker_shutdown"  # worker stopped with SIGTERM
    WORKER_LOST = "worker_lost"  # worker died without cleaning up
    CONNECT_TIMEOUT = "connect_timeout"  # admitted, but no `connect` media event in time
    REMOVED_BY_MODERATOR = "removed_by_moderator"  # a peer with the moderate grant removed it
    # Never admitted: a refused join's history row (Participation.refusal says why).
    REFUSED = "refused"


class JoinRefusal(StrEnum):
    """Stable join error reasons, sent to clients as ``{"reason": ...}``."""

    NOT_FOUND = "room not found"
    FULL = "room full"
    LOCKED = "room locked"
    INVALID_ROOM = "invalid room name"
    INVALID_PARAMS = "invalid params"
    UNAVAILABLE = "room unavailable"  # no live worker, or the owner did not answer
    BUSY = "room busy"  # the owner's queue for the room is full; try again shortly
    # A resume secret that is malformed, forged, for another room, or whose peer the room
    # no longer keeps (grace period over, removed, room moved): join afresh.
    RESUME_REFUSED = "resume refused"
    # The room's join policy (rooms.access): final for the client, except PIN_REQUIRED
    # and WRONG_PIN, after which the room page asks for the PIN and joins again.
    PIN_REQUIRED = "pin required"
    WRONG_PIN = "wrong pin"
    TOKEN_REQUIRED = "token required"
    TOKEN_INVALID = "token invalid"  # not signed by this server, altered, or malformed
    TOKEN_EXPIRED = "token expired"
    TOKEN_OTHER_ROOM = "token for another room"
    LOGIN_REQUIRED = "login required"
    NOT_ALLOWED = "not allowed"  # logged in, but not one of the room's users
    # Too many wrong PINs or bad tokens from one address for one room; wait a minute.
    TOO_MANY_ATTEMPTS = "too many attempts"
    # Joining unknown rooms created too many from this address within a minute.
    TOO_MANY_ROOMS = "too many new rooms"


# --- to a room's owner (a worker channel) -----------------------------------


class RoomJoin(TypedDict):
    type: Literal["room.join"]
    room: str
    peer_id: str
    reply_channel: str  # the consumer's channel name
    metadata: dict[str, Any]  # validated join params: {"displayName": str, ...}
    max_participants: int
    grants: list[str]  # rooms.grants.Grant values
    identity: str  # a signed token's identity or the Django username; "" for a guest
    # The client can resume this peer after its socket broke (join param ``resumable``):
    # a ``disconnected`` leave then detaches the peer for the grace period.
    resumable: NotRequired[bool]


class RoomResume(TypedDict):
    """Re-attach a detached (or orphaned) peer to a new consumer channel."""

    type: Literal["room.resume"]
    room: str
    peer_id: str  # from a verified resume secret, never from client text
    reply_channel: str


class RoomLeave(TypedDict):
    type: Literal["room.leave"]
    room: str
    peer_id: str
    reason: str  # RemovalReason value
    # The consumer channel the leave is about: ignored if the peer has moved to another
    # channel since (a late leave from the old socket must not detach a resumed peer).
    channel: NotRequired[str]


class RoomMediaEvent(TypedDict):
    type: Literal["room.media_event"]
    room: str
    peer_id: str
    data: str  # the JSON string from the client's mediaEvent payload, unparsed


class RoomKick(TypedDict):
    type: Literal["room.kick"]
    room: str
    peer_id: str


class RoomClose(TypedDict):
    type: Literal["room.close"]
    room: str


ToRoom = RoomJoin | RoomResume | RoomLeave | RoomMediaEvent | RoomKick | RoomClose


# --- to one peer's consumer ---------------------------------------------------


class PeerJoined(TypedDict):
    type: Literal["peer.joined"]
    room: str
    peer_id: str


class PeerJoinRefused(TypedDict):
    type: Literal["peer.join_refused"]
    room: str
    peer_id: str
    reason: str  # JoinRefusal value
    # True when the worker does not own the room (stale registry); the consumer
    # claims again and retries.
    retry: NotRequired[bool]


class PeerMediaEvent(TypedDict):
    type: Literal["peer.media_event"]
    room: str
    peer_id: str
    data: str  # a JSON string, pushed as mediaEvent {"data": data}


class PeerRemoved(TypedDict):
    """The room ended this peer. Final reasons (kicked, room_closed, removed_by_moderator) become
    ``phx_close``; the others become ``phx_error`` so the client rejoins."""

    type: Literal["peer.removed"]
    room: str
    peer_id: str
    reason: str  # RemovalReason value


ToPeer = PeerJoined | PeerJoinRefused | PeerMediaEvent | PeerRemoved

# A peer that never connected is not rejoined: a squatter would just come back, and a
# client that cannot send `connect` in time would loop. A peer resumed on another channel
# is told `replaced` on the old one, which must not rejoin and take it back.
FINAL_REMOVALS = frozenset(
    {
        RemovalReason.KICKED,
        RemovalReason.ROOM_CLOSED,
        RemovalReason.CONNECT_TIMEOUT,
        RemovalReason.REPLACED,
        RemovalReason.REMOVED_BY_MODERATOR,
    }
)


def room_join(
    room: str,
    peer_id: str,
    reply_channel: str,
    metadata: dict[str, Any],
    max_participants: int,
    grants: Iterable[Grant] = PARTICIPANT,
    identity: str = "",
    *,
    resumable: bool = False,
) -> RoomJoin:
    message: RoomJoin = {
        "type": "room.join",
        "room": room,
        "peer_id": peer_id,
        "reply_channel": reply_channel,
        "metadata": metadata,
        "max_participants": max_participants,
        "grants": grant_names(grants),
        "identity": identity,
    }
    if resumable:
        message["resumable"] = True
    return message


def room_resume(room: str, peer_id: str, reply_channel: str) -> RoomResume:
    return {"type": "room.resume", "room": room, "peer_id": peer_id, "reply_channel": reply_channel}


def room_leave(
    room: str, peer_id: str, reason: RemovalReason, *, channel: str | None = None
) -> RoomLeave:
    message: RoomLeave = {
        "type": "room.leave",
        "room": room,
        "peer_id": peer_id,
        "reason": reason.value,
    }
    if channel is not None:
        message["channel"] = channel
    return message


def room_media_event(room: str, peer_id: str, data: str) -> RoomMediaEvent:
    return {"type": "room.media_event", "room": room, "peer_id": peer_id, "data": data}


def room_kick(room: str, peer_id: str) -> RoomKick:
    return {"type": "room.kick", "room": room, "peer_id": peer_id}


def room_close(room: str) -> RoomClose:
    return {"type": "room.close", "room": room}


def peer_joined(room: str, peer_id: str) -> PeerJoined:
    return {"type": "peer.joined", "room": room, "peer_id": peer_id}


def peer_join_refused(
    room: str, peer_id: str, reason: JoinRefusal, *, retry: bool = False
) -> PeerJoinRefused:
    message: PeerJoinRefused = {
        "type": "peer.join_refused",
        "room": room,
        "peer_id": peer_id,
        "reason": reason.value,
    }
    if retry:
        message["retry"] = True
    return message


def peer_media_event(room: str, peer_id: str, data: str) -> PeerMediaEvent:
    return {"type": "peer.media_event", "room": room, "peer_id": peer_id, "data": data}


def peer_removed(room: str, peer_id: str, reason: RemovalReason) -> PeerRemoved:
    return {"type": "peer.removed", "room": room, "peer_id": peer_id, "reason": reason.value}


def is_room_join(message: dict[str, Any]) -> bool:
    """True if a ``room.join`` carries every field with its declared type."""
    return (
        isinstance(message.get("peer_id"), str)
        and isinstance(message.get("reply_channel"), str)
        and isinstance(message.get("metadata"), dict)
        and isinstance(message.get("max_participants"), int)
        and _are_grants(message.get("grants"))
        and isinstance(message.get("identity", ""), str)
        and isinstance(message.get("resumable", False), bool)
    )


def is_room_resume(message: dict[str, Any]) -> bool:
    """True if a ``room.resume`` carries every field with its declared type."""
    return isinstance(message.get("peer_id"), str) and isinstance(message.get("reply_channel"), str)


def is_room_leave(message: dict[str, Any]) -> bool:
    """True if a ``room.leave`` names a peer, a known reason and (if any) a channel."""
    return (
        isinstance(message.get("peer_id"), str)
        and message.get("reason") in set(RemovalReason)
        and isinstance(message.get("channel", ""), str)
    )


def _are_grants(value: object) -> bool:
    if not isinstance(value, list):
        return False
    try:
        parse_grants(value)
    except ValueError:
        return False
    return True
