"""Admin test fixtures: rooms in the database, live state in a LocalRegistry, a recording layer."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync

from rooms import admin_actions
from rooms.models import Room
from rooms.registry.base import LivePeer, WorkerRef
from rooms.registry.local import LocalRegistry

OWNER = WorkerRef(worker_id="worker-1", channel="roomworker.worker1!owner")
ANN = LivePeer("peerAnn0001", "Ann", "2026-01-01T10:00:00+00:00")
BOB = LivePeer("peerBob0002", "Bob <script>", "2026-01-01T10:00:05+00:00")


class RecordingLayer:
    """Stands in for the channel layer: remembers every (channel, message) sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.sent.append((channel, message))


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr(admin_actions, "get_channel_layer", lambda: recording)
    return recording


@pytest.fixture
def live_registry(monkeypatch: pytest.MonkeyPatch) -> LocalRegistry:
    """A registry where room "standup" is live on OWNER with Ann and Bob, "quiet" is not live.

    LocalRegistry never awaits, so the admin's async_to_sync calls (each on a
    fresh event loop under the test client) can share it.
    """
    registry = LocalRegistry()

    async def populate() -> None:
        await registry.heartbeat(OWNER, 2, 600.0)
        assert await registry.claim_room("standup") == OWNER
        await registry.set_live_peers("standup", [ANN, BOB])

    async def this_registry() -> LocalRegistry:
        return registry

    async_to_sync(populate)()
    monkeypatch.setattr(admin_actions, "get_registry", this_registry)
    return registry


@pytest.fixture
def rooms(db: None) -> dict[str, Room]:
    return {
        "standup": Room.objects.create(name="standup", title="Daily standup", max_participants=8),
        "quiet": Room.objects.create(name="quiet", locked=True),
    }


class UnreachableRegistry(LocalRegistry):
    """A registry whose store is down: every read fails as redis-py would."""

    async def live_rooms(self) -> list[str]:
        raise ConnectionError("Error connecting to redis")

    async def live_peers(self, room: str) -> list[LivePeer]:
        raise ConnectionError("Error connecting to redis")

    async def owner(self, room: str) -> WorkerRef | None:
        raise ConnectionError("Error connecting to redis")


@pytest.fixture
def unreachable_registry(monkeypatch: pytest.MonkeyPatch) -> UnreachableRegistry:
    registry = UnreachableRegistry()

    async def this_registry() -> UnreachableRegistry:
        return registry

    monkeypatch.setattr(admin_actions, "get_registry", this_registry)
    return registry
