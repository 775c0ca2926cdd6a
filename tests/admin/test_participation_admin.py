"""The Participation admin: a read-only, filterable history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from rooms.models import Participation, Room


@pytest.fixture
def history(rooms: dict[str, Room]) -> list[Participation]:
    start = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    return [
        Participation.objects.create(
            room=rooms["standup"], peer_id="p1", display_name="Ann", joined_at=start
        ),
        Participation.objects.create(
            room=rooms["standup"],
            peer_id="p2",
            display_name="Bob",
            joined_at=start,
            left_at=datetime(2026, 1, 1, 10, 5, tzinfo=UTC),
            leave_reason="kicked",
        ),
        Participation.objects.create(
            room=rooms["quiet"],
            peer_id="p3",
            display_name="Cy",
            joined_at=start,
            left_at=datetime(2026, 1, 1, 11, 0, tzinfo=UTC),
            leave_reason="left",
        ),
    ]


def _listed(client: Client, **query: str) -> set[str]:
    response = client.get(reverse("admin:rooms_participation_changelist"), query)
    assert response.status_code == 200
    return {row.peer_id for row in response.context["cl"].result_list}


def test_history_lists_every_stay_with_its_columns(
    admin_client: Client, history: list[Participation]
) -> None:
    response = admin_client.get(reverse("admin:rooms_participation_changelist"))
    html = response.content.decode()
    for header in ["Room", "Display name", "Peer id", "Joined at", "Left at", "Leave reason"]:
        assert header in html
    assert _listed(admin_client) == {"p1", "p2", "p3"}


def test_history_filters_by_reason_room_and_still_present(
    admin_client: Client, history: list[Participation], rooms: dict[str, Room]
) -> None:
    assert _listed(admin_client, leave_reason__exact="kicked") == {"p2"}
    assert _listed(admin_client, room__id__exact=str(rooms["quiet"].pk)) == {"p3"}
    assert _listed(admin_client, left_at__isempty="1") == {"p1"}
    assert _listed(admin_client, q="Bob") == {"p2"}


def test_history_is_read_only(admin_client: Client, history: list[Participation]) -> None:
    stay = history[1]
    change_url = reverse("admin:rooms_participation_change", args=[stay.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(change_url, {"display_name": "Mallory"}).status_code == 403
    assert admin_client.get(reverse("admin:rooms_participation_add")).status_code == 403
    delete_url = reverse("admin:rooms_participation_delete", args=[stay.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    stay.refresh_from_db()
    assert stay.display_name == "Bob"
