"""The Room factory workers use: the aiortc SFU room with the configured media settings and bounds."""

from __future__ import annotations

from django.conf import settings

from rooms.roomtypes import RoomLike, RoomOutbox


def make_room(name: str, outbox: RoomOutbox) -> RoomLike:
    from rooms.sfu.room import Room

    return Room(
        name, outbox=outbox, media=settings.VIDEOROOM_MEDIA, limits=settings.VIDEOROOM_LIMITS
    )
