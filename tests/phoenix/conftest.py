"""Fixtures for socket tests: a clean in-memory layer and the embedded worker's teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import get_channel_layer

from rooms.roomtypes import RoomOutbox
from rooms.web import join_limits
from rooms.web.monitor import owner_monitor
from rooms.worker.embedded import embedded_worker
from tests.worker.fake_room import FakeRoom


@pytest.fixture(autouse=True)
async def clean_layer(settings: Any) -> AsyncIterator[None]:
    """The embedded setup (no REDIS_URL), with the layer emptied and the worker stopped after."""
    join_limits.reset()  # each test starts with every address's join bucket full
    settings.REDIS_URL = None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    yield
    worker = embedded_worker()
    if worker is not None:
        await worker.stop()
    await owner_monitor().close()
    layer = get_channel_layer()
    if layer is not None:
        await layer.flush()


@pytest.fixture
def fake_rooms(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeRoom]:
    """The embedded worker hosts FakeRooms (no media) instead of the SFU Room."""
    rooms: dict[str, FakeRoom] = {}

    def make(name: str, outbox: RoomOutbox) -> FakeRoom:
        room = rooms[name] = FakeRoom(name, outbox)
        return room

    monkeypatch.setattr("rooms.worker.embedded.make_room", make)
    return rooms
