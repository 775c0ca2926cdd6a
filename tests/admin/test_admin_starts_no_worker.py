"""Reading live state in the admin never starts a room worker (embedded default)."""

from __future__ import annotations

import threading
from typing import Any

from django.test import Client
from django.urls import reverse

from rooms.models import Room
from rooms.worker import embedded


def test_rendering_the_room_list_in_embedded_mode_starts_no_room_worker(
    admin_client: Client, rooms: dict[str, Room], settings: Any
) -> None:
    settings.REDIS_URL = None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    response = admin_client.get(reverse("admin:rooms_room_changelist"))
    assert response.status_code == 200
    page = admin_client.get(reverse("admin:rooms_room_change", args=[rooms["standup"].pk]))
    assert "Live participants (0)" in page.content.decode()
    assert len(embedded._workers) == 0
    assert not [t.name for t in threading.enumerate() if t.name.startswith("lease-keeper-")]
