"""The Room admin: changelist with live counts, change page with live participants."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from rooms.models import Room
from rooms.registry.local import LocalRegistry
from tests.admin.conftest import ANN, BOB, RecordingLayer


def _live_count_cells(html: str) -> list[str]:
    return re.findall(r'<td class="field-live_participants">([^<]*)</td>', html)


def test_changelist_shows_live_participant_counts(
    admin_client: Client, rooms: dict[str, Room], live_registry: LocalRegistry
) -> None:
    response = admin_client.get(reverse("admin:rooms_room_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Live participants" in html
    # Ordered by name: quiet (not live), standup (Ann and Bob).
    assert _live_count_cells(html) == ["0", "2"]


def test_changelist_search_and_locked_filter(
    admin_client: Client, rooms: dict[str, Room], live_registry: LocalRegistry
) -> None:
    url = reverse("admin:rooms_room_changelist")
    found = admin_client.get(url, {"q": "standup"})
    assert list(found.context["cl"].result_list) == [rooms["standup"]]
    locked = admin_client.get(url, {"locked__exact": "1"})
    assert list(locked.context["cl"].result_list) == [rooms["quiet"]]


def test_change_page_lists_live_participants_with_kick_buttons(
    admin_client: Client, rooms: dict[str, Room], live_registry: LocalRegistry
) -> None:
    room = rooms["standup"]
    response = admin_client.get(reverse("admin:rooms_room_change", args=[room.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Live participants (2)" in html
    assert html.count('class="live-participant"') == 2
    kick_url = reverse("admin:rooms_room_kick", args=[room.pk])
    assert html.count(f'action="{kick_url}"') == 2
    assert f'value="{ANN.peer_id}"' in html
    assert f'value="{BOB.peer_id}"' in html
    # Display names are the user's input: escaped, never markup.
    assert "Bob &lt;script&gt;" in html
    assert "Bob <script>" not in html
    assert f'action="{reverse("admin:rooms_room_close", args=[room.pk])}"' in html


def test_change_page_of_a_room_nobody_is_in_says_so(
    admin_client: Client, rooms: dict[str, Room], live_registry: LocalRegistry
) -> None:
    response = admin_client.get(reverse("admin:rooms_room_change", args=[rooms["quiet"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Live participants (0)" in html
    assert "Nobody is in this room right now." in html
    assert "close-room-form" not in html


def test_room_can_still_be_edited_from_its_change_page(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    room = rooms["standup"]
    response = admin_client.post(
        reverse("admin:rooms_room_change", args=[room.pk]),
        {"name": "standup", "title": "Renamed", "max_participants": "4", "join_policy": "open"},
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.title, room.max_participants, room.locked) == ("Renamed", 4, False)
    assert layer.sent == []
