"""What a moderator did, as the room's owner hands it to the participation history.

A peer with the ``moderate`` grant (rooms.grants) may mute another participant's track for
everyone or remove a participant; the Room (rooms/sfu/moderation.py) checks and applies the
action, then reports it through ``RoomOutbox.moderated``; the worker's recorder writes it as
a ``ModerationAction`` row. Only actions that were applied are reported: a refused attempt
changes nothing and is only logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ModerationKind(StrEnum):
    MUTE_TRACK = "mute_track"  # the track stops being forwarded to anyone
    UNMUTE_TRACK = "unmute_track"  # forwarding resumes
    REMOVE_PEER = "remove_peer"  # the peer leaves with reason removed_by_moderator


@dataclass(frozen=True)
class ModerationRecord:
    """One applied moderator action; the names are those the peers gave at that moment."""

    room: str
    moderator_id: str
    moderator_name: str
    kind: ModerationKind
    target_id: str
    target_name: str
    track_id: str  # "" for a removal
    at: datetime
