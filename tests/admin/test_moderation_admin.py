"""The ModerationAction admin: moderators' actions as a read-only, filterable history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from rooms.models import ModerationAction, Room


@pytest.fixture
def actions(rooms: dict[str, Room]) -> list[ModerationAction]:
    at = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    common = {"room": rooms["standup"], "moderator_peer_id": "m1", "moderator_name": "Mo", "at": at}
    return [
        ModerationAction.objects.create(
            **common,
            action="mute_track",
            target_peer_id="p1",
            target_name="Ann",
            track_id="p1:cam",
        ),
        ModerationAction.objects.create(
            **common, action="remove_peer", target_peer_id="p2", target_name="Bob"
        ),
    ]


def test_actions_are_listed_filterable_and_read_only(
    admin_client: Client, actions: list[ModerationAction]
) -> None:
    url = reverse("admin:rooms_moderationaction_changelist")
    html = admin_client.get(url).content.decode()
    for text in ["Moderator name", "Target name", "mute_track", "remove_peer", "p1:cam"]:
        assert text in html
    removed = admin_client.get(url, {"action__exact": "remove_peer"}).context["cl"].result_list
    assert [row.target_peer_id for row in removed] == ["p2"]
    change_url = reverse("admin:rooms_moderationaction_change", args=[actions[0].pk])
    assert admin_client.post(change_url, {"target_name": "Mallory"}).status_code == 403
    assert admin_client.get(reverse("admin:rooms_moderationaction_add")).status_code == 403
