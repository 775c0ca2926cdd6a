"""The Room factory workers use: the aiortc SFU room with the configured media settings and bounds."""

from __future__ import annotations

from django.conf import settings

from rooms.roomtypes import RoomLike, RoomOutbox


def preload() -> None:
    """Import the SFU (aiortc and its codecs) now rather than on the first room.

    The import costs 0.3 s or more on a loaded 2-core machine. A worker that takes over
    the rooms of a dead one often hosts its first room then, and every participant of it
    would wait for the import; ``manage.py roomworker`` calls this before it is ready.
    """
    import rooms.sfu.room  # noqa: F401


def make_room(name: str, outbox: RoomOutbox) -> RoomLike:
    from rooms.sfu.room import Room

    return Room(
        name, outbox=outbox, media=settings.VIDEOROOM_MEDIA, limits=settings.VIDEOROOM_LIMITS
    )
