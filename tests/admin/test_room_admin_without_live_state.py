"""With the registry unreachable the admin still works on the database, and says so."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from rooms.admin import LIVE_STATE_UNAVAILABLE
from rooms.models import Room
from tests.admin.conftest import RecordingLayer, UnreachableRegistry


def test_changelist_shows_unknown_live_counts(
    admin_client: Client, rooms: dict[str, Room], unreachable_registry: UnreachableRegistry
) -> None:
    response = admin_client.get(reverse("admin:rooms_room_changelist"))
    assert response.status_code == 200
    assert response.content.decode().count('<td class="field-live_participants">?</td>') == 2


def test_change_page_renders_and_says_live_state_is_unavailable(
    admin_client: Client, rooms: dict[str, Room], unreachable_registry: UnreachableRegistry
) -> None:
    response = admin_client.get(reverse("admin:rooms_room_change", args=[rooms["standup"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert LIVE_STATE_UNAVAILABLE in html
    assert 'name="_save"' in html


def test_kick_and_close_report_the_outage_instead_of_failing(
    admin_client: Client,
    rooms: dict[str, Room],
    unreachable_registry: UnreachableRegistry,
    layer: RecordingLayer,
) -> None:
    pk = rooms["standup"].pk
    kick = admin_client.post(reverse("admin:rooms_room_kick", args=[pk]), {"peer_id": "p1"})
    close = admin_client.post(reverse("admin:rooms_room_close", args=[pk]))
    assert (kick.status_code, close.status_code) == (302, 302)
    shown = [(m.level_tag, m.message) for m in get_messages(close.wsgi_request)]
    assert shown == [("error", LIVE_STATE_UNAVAILABLE)] * 2
    assert layer.sent == []
