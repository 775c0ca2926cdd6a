"""The worker's Room factory hands every Room the configured media settings and bounds."""

from __future__ import annotations

from django.conf import settings

from rooms.worker.rooms import make_room
from tests.sfu.fakes import FakeOutbox


def test_rooms_get_the_configured_limits_and_media_config() -> None:
    room = make_room("alpha", FakeOutbox())
    assert room._limits is settings.VIDEOROOM_LIMITS  # type: ignore[attr-defined]
    assert room._config is settings.VIDEOROOM_MEDIA  # type: ignore[attr-defined]
