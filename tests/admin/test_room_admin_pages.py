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


def test_the_admin_sets_a_pin_hashed_and_never_shows_it_back(
    admin_client: Client, rooms: dict[str, Room]
) -> None:
    room = rooms["standup"]
    url = reverse("admin:rooms_room_change", args=[room.pk])
    form = {"name": "standup", "max_participants": "4", "join_policy": "pin"}
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "needs a PIN" in refused.content.decode()
    assert admin_client.post(url, {**form, "pin": "482913"}).status_code == 302
    room.refresh_from_db()
    assert room.join_policy == "pin" and room.check_pin("482913")
    assert "482913" not in room.pin_hash
    page = admin_client.get(url).content.decode()
    assert "482913" not in page and room.pin_hash not in page
    # Saving without a new PIN keeps the old one.
    assert admin_client.post(url, {**form, "title": "T"}).status_code == 302
    room.refresh_from_db()
    assert room.check_pin("482913")


def test_the_room_list_shows_and_filters_by_join_policy(
    admin_client: Client, rooms: dict[str, Room], live_registry: LocalRegistry
) -> None:
    page = admin_client.get(reverse("admin:rooms_room_changelist")).content.decode()
    assert "Join policy" in page
    filtered = admin_client.get(
        reverse("admin:rooms_room_changelist") + "?join_policy__exact=users"
    )
    assert filtered.status_code == 200
