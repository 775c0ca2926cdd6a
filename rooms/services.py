"""Database-facing room services: join policy and participation history.

Synchronous ORM code. The web side reads the join policy through
database_sync_to_async; the room worker writes participation history only through
its ParticipationRecorder (rooms/worker/recorder.py), from the recorder's own thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms import access
from rooms.access import Credentials
from rooms.grants import PARTICIPANT, Grant
from rooms.messages import JoinRefusal, RemovalReason
from rooms.models import JoinPolicy as RoomPolicy
from rooms.models import ModerationAction, Participation, Room
from rooms.moderation import ModerationRecord
from rooms.roomtypes import JoinRefused

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JoinPolicy:
    """What a join may do in a room, read from the database at join time."""

    room_name: str
    max_participants: int
    grants: frozenset[Grant] = PARTICIPANT
    identity: str = ""  # rooms.access.Admission.identity
    display_name: str = ""  # a signed token's name: wins over the client's
    created: bool = False  # this join created the room


@dataclass(frozen=True)
class JoinRequest:
    """A join as the web side hands it over for a decision."""

    room_name: str
    credentials: Credentials = field(default_factory=Credentials)
    peer_id: str = ""  # the id the peer will have; names a refused join in the history
    display_name: str = ""  # what the client calls itself, for the history
    # False when the client's address has created its share of rooms this minute.
    may_create: bool = True


def authorize_join(request: JoinRequest) -> JoinPolicy:
    """Look the room up (creating it when allowed) and apply its join policy
    (rooms.access); raise JoinRefused with the reason, recorded in the room's history.

    "room full" is decided by the room's owner, which alone knows the live count.
    """
    room_name, credentials = request.room_name, request.credentials
    room = Room.objects.filter(name=room_name).first()
    created = False
    try:
        # A bad token is refused before anything is created; a good one may create its room.
        token = access.token_for(room_name, credentials)
        if room is None:
            if token is None and not settings.VIDEOROOM["AUTO_CREATE_ROOMS"]:
                raise JoinRefused(JoinRefusal.NOT_FOUND)
            if not request.may_create:
                raise JoinRefused(JoinRefusal.TOO_MANY_ROOMS)
            policy = RoomPolicy.OPEN if token is None else RoomPolicy.TOKEN
            room, created = _create_room(room_name, policy)
        if room.locked:
            raise JoinRefused(JoinRefusal.LOCKED)
        admission = access.admit(room, credentials, token)
    except JoinRefused as refused:
        if room is not None:
            record_refusal(room_name, request.peer_id, request.display_name, refused.reason)
        raise
    return JoinPolicy(
        room_name=room.name,
        max_participants=room.max_participants,
        grants=admission.grants,
        identity=admission.identity,
        display_name=admission.display_name,
        created=created,
    )


def create_room(
    room_name: str,
    *,
    policy: RoomPolicy = RoomPolicy.OPEN,
    pin: str = "",
    max_participants: int | None = None,
) -> Room:
    """A new room (admin-side: ``manage.py createroom``); ValidationError if it is unusable."""
    room = Room(name=room_name, join_policy=policy)
    if max_participants is not None:
        room.max_participants = max_participants
    if pin:
        room.set_pin(pin)
    room.full_clean()
    if policy == RoomPolicy.PIN and not room.pin_hash:
        raise ValidationError({"pin": "a room of the pin policy needs a PIN"})
    room.save()
    return room


def _create_room(room_name: str, policy: RoomPolicy) -> tuple[Room, bool]:
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=room_name,
                join_policy=policy,
                max_participants=settings.VIDEOROOM["DEFAULT_MAX_PARTICIPANTS"],
            )
            logger.info("room %s created on first join (policy %s)", room_name, policy)
            return room, True
    except IntegrityError:
        # Another process created it between our read and our insert.
        return Room.objects.get(name=room_name), False


# Participation's column sizes (rooms/models.py).
_PEER_ID_CHARS = 40
_DISPLAY_NAME_CHARS = 100
_IDENTITY_CHARS = 128
_TRACK_ID_CHARS = 200  # rooms.sfu.media_events.MAX_TRACK_ID_CHARS


def storable_text(value: object, limit: int) -> str:
    """``value`` as text every database stores: valid UTF-8, no NUL, at most ``limit`` chars.

    Defensive: the socket layer refuses such names, but a write that fails on one
    bad character would lose the whole record (a lone surrogate cannot be encoded,
    PostgreSQL refuses NUL in text).
    """
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return text[:limit]


def record_join(
    room_name: str, peer_id: str, display_name: str, joined_at: datetime, identity: str = ""
) -> None:
    room = Room.objects.filter(name=room_name).first()
    if room is None:
        logger.warning("room %s peer %s: no Room row to record the join in", room_name, peer_id)
        return
    Participation.objects.create(
        room=room,
        peer_id=storable_text(peer_id, _PEER_ID_CHARS),
        display_name=storable_text(display_name, _DISPLAY_NAME_CHARS),
        identity=storable_text(identity, _IDENTITY_CHARS),
        joined_at=joined_at,
    )


def record_refusal(room_name: str, peer_id: str, display_name: str, reason: JoinRefusal) -> None:
    """A refused join as a history row: never admitted, so it ends when it begins."""
    room = Room.objects.filter(name=room_name).first()
    if room is None:
        return
    now = timezone.now()
    Participation.objects.create(
        room=room,
        peer_id=storable_text(peer_id, _PEER_ID_CHARS),
        display_name=storable_text(display_name, _DISPLAY_NAME_CHARS),
        joined_at=now,
        left_at=now,
        leave_reason=RemovalReason.REFUSED.value,
        refusal=reason.value,
    )


def record_leave(room_name: str, peer_id: str, reason: RemovalReason) -> None:
    Participation.objects.filter(
        room__name=room_name, peer_id=storable_text(peer_id, _PEER_ID_CHARS), left_at__isnull=True
    ).update(left_at=timezone.now(), leave_reason=reason.value)


def record_moderation(record: ModerationRecord) -> None:
    room = Room.objects.filter(name=record.room).first()
    if room is None:
        logger.warning(
            "room %s peer %s: no Room row to record the moderation in",
            record.room,
            record.moderator_id,
        )
        return
    ModerationAction.objects.create(
        room=room,
        moderator_peer_id=storable_text(record.moderator_id, _PEER_ID_CHARS),
        moderator_name=storable_text(record.moderator_name, _DISPLAY_NAME_CHARS),
        action=record.kind.value,
        target_peer_id=storable_text(record.target_id, _PEER_ID_CHARS),
        target_name=storable_text(record.target_name, _DISPLAY_NAME_CHARS),
        track_id=storable_text(record.track_id, _TRACK_ID_CHARS),
        at=record.at,
    )


def close_dangling_participations(room_name: str) -> int:
    """End stays left open by a worker that died; called when a room is (re)created."""
    return Participation.objects.filter(room__name=room_name, left_at__isnull=True).update(
        left_at=timezone.now(), leave_reason=RemovalReason.WORKER_LOST.value
    )
