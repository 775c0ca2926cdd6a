"""The admin's live-figures endpoint: staff only, the room's latest figures as JSON."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from rooms.metrics import figures
from rooms.metrics.sampling import PeerFigures
from rooms.models import Room
from tests.admin.conftest import live_registry  # noqa: F401  (fixture: no embedded worker)

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("live_registry")
def test_staff_get_the_rooms_figures_and_others_do_not(
    admin_client: Client, client: Client
) -> None:
    room = Room.objects.create(name="figures-room")
    ann = PeerFigures("figures-room", "peerAnn1", "Ann <b>", bitrate_in=800_000.0)
    ann.round_trip_seconds, ann.fraction_lost = 0.031, 0.02
    async_to_sync(figures.publish)([ann, PeerFigures("other-room", "peerBob2", "Bob")])
    url = f"/admin/rooms/room/{room.pk}/live-figures/"

    reply = admin_client.get(url)
    assert reply.status_code == 200
    assert reply.json() == {
        "room": "figures-room",
        "peers": [
            {
                "peer_id": "peerAnn1",
                "display_name": "Ann <b>",
                "bitrate_in": 800_000.0,
                "bitrate_out": None,
                "packets_in": 0,
                "packets_out": 0,
                "round_trip_seconds": 0.031,
                "fraction_lost": 0.02,
            }
        ],
    }
    page = admin_client.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()
    assert f'data-url="{url}"' in page and "setInterval(refresh, 2000)" in page
    assert client.get(url).status_code == 302  # to the admin login
    assert admin_client.get("/admin/rooms/room/999999/live-figures/").status_code == 404


def test_figures_of_a_room_that_stopped_publishing_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    async_to_sync(figures.publish)([PeerFigures("gone-room", "p1", "Ann")])
    assert async_to_sync(figures.read)("gone-room")
    monkeypatch.setattr(figures, "EXPIRY_SECONDS", -1.0)
    assert async_to_sync(figures.read)("gone-room") == []
