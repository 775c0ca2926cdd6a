"""Database-facing room services: join policy and participation history.

Synchronous ORM code. The web side reads the join policy through
database_sync_to_async; the room worker writes participation history only through
its ParticipationRecorder (rooms/worker/recorder.py), from the recorder's own thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms.grants import PARTICIPANT, Grant
from rooms.messages import JoinRefusal, RemovalReason
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


def authorize_join(room_name: str) -> JoinPolicy:
    """Look the room up (creating it when allowed); raise JoinRefused if it is unknown or locked.

    "room full" is decided by the room's owner, which alone knows the live count.
    """
    room = Room.objects.filter(name=room_name).first()
    if room is None:
        if not settings.VIDEOROOM["AUTO_CREATE_ROOMS"]:
            raise JoinRefused(JoinRefusal.NOT_FOUND)
        room = _create_room(room_name)
    if room.locked:
        raise JoinRefused(JoinRefusal.LOCKED)
    return JoinPolicy(room_name=room.name, max_participants=room.max_participants)


def _create_room(room_name: str) -> Room:
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=room_name,
                max_participants=settings.VIDEOROOM["DEFAULT_MAX_PARTICIPANTS"],
            )
            logger.info("room %s created on first join", room_name)
            return room
    except IntegrityError:
        # Another process created it between our read and our insert.
        return Room.objects.get(name=room_name)


# Participation's column sizes (rooms/models.py).
_PEER_ID_CHARS = 40
_DISPLAY_NAME_CHARS = 100
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


def record_join(room_name: str, peer_id: str, display_name: str, joined_at: datetime) -> None:
    room = Room.objects.filter(name=room_name).first()
    if room is None:
        logger.warning("room %s peer %s: no Room row to record the join in", room_name, peer_id)
        return
    Participation.objects.create(
        room=room,
        peer_id=storable_text(peer_id, _PEER_ID_CHARS),
        display_name=storable_text(display_name, _DISPLAY_NAME_CHARS),
        joined_at=joined_at,
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
