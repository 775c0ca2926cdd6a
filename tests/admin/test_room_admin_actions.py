"""Kick and close from the Room admin: the right layer message to the room's owner."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from rooms.models import Room
from rooms.registry.local import LocalRegistry
from tests.admin.conftest import ANN, OWNER, RecordingLayer


def _messages(response: HttpResponse) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_kick_button_sends_room_kick_to_the_owner(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    room = rooms["standup"]
    response = admin_client.post(
        reverse("admin:rooms_room_kick", args=[room.pk]), {"peer_id": ANN.peer_id}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rooms_room_change", args=[room.pk])
    assert layer.sent == [
        (OWNER.channel, {"type": "room.kick", "room": "standup", "peer_id": ANN.peer_id})
    ]
    assert _messages(response) == [
        ("success", f"Participant {ANN.peer_id} is being removed from standup.")
    ]


def test_kick_of_an_unknown_peer_is_an_admin_error_not_a_crash(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    room = rooms["standup"]
    response = admin_client.post(
        reverse("admin:rooms_room_kick", args=[room.pk]), {"peer_id": "nobodyHere1"}
    )
    assert response.status_code == 302
    assert layer.sent == []
    assert _messages(response) == [("error", "No participant nobodyHere1 is in room standup.")]


@pytest.mark.parametrize("bad", ["", "a b", "x" * 41, "peer;DROP", "é"])
def test_kick_with_a_malformed_peer_id_is_refused(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
    bad: str,
) -> None:
    room = rooms["standup"]
    response = admin_client.post(reverse("admin:rooms_room_kick", args=[room.pk]), {"peer_id": bad})
    assert response.status_code == 302
    assert _messages(response) == [("error", "A peer id is 1 to 40 letters, digits, '-' or '_'.")]
    assert layer.sent == []


def test_kick_in_a_room_that_is_not_live_warns(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    response = admin_client.post(
        reverse("admin:rooms_room_kick", args=[rooms["quiet"].pk]), {"peer_id": ANN.peer_id}
    )
    assert response.status_code == 302
    assert layer.sent == []
    assert _messages(response) == [("warning", "Room quiet is not live.")]


def test_kick_and_close_need_post(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    pk = rooms["standup"].pk
    assert admin_client.get(reverse("admin:rooms_room_kick", args=[pk])).status_code == 403
    assert admin_client.get(reverse("admin:rooms_room_close", args=[pk])).status_code == 403
    assert layer.sent == []


def test_kick_for_an_unknown_room_id_is_not_found(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    for object_id in ["999999", "not-a-number"]:
        url = reverse("admin:rooms_room_kick", args=[object_id])
        assert admin_client.post(url, {"peer_id": ANN.peer_id}).status_code == 404
    assert layer.sent == []


def test_kick_and_close_need_a_staff_login(
    client: Client, rooms: dict[str, Room], live_registry: LocalRegistry, layer: RecordingLayer
) -> None:
    pk = rooms["standup"].pk
    kick = client.post(reverse("admin:rooms_room_kick", args=[pk]), {"peer_id": ANN.peer_id})
    close = client.post(reverse("admin:rooms_room_close", args=[pk]))
    assert kick.status_code == 302 and "/login/" in kick["Location"]
    assert close.status_code == 302 and "/login/" in close["Location"]
    assert layer.sent == []


def test_close_button_sends_room_close_to_the_owner(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    room = rooms["standup"]
    response = admin_client.post(reverse("admin:rooms_room_close", args=[room.pk]))
    assert response.status_code == 302
    assert layer.sent == [(OWNER.channel, {"type": "room.close", "room": "standup"})]
    assert _messages(response) == [("success", "Room standup is being closed.")]


def test_close_action_on_the_changelist_closes_only_live_rooms(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    response = admin_client.post(
        reverse("admin:rooms_room_changelist"),
        {
            "action": "close_selected_rooms",
            "_selected_action": [str(rooms["standup"].pk), str(rooms["quiet"].pk)],
        },
    )
    assert response.status_code == 302
    assert layer.sent == [(OWNER.channel, {"type": "room.close", "room": "standup"})]
    assert _messages(response) == [("success", "Closing 1 live room(s): standup.")]


def test_close_action_with_no_live_room_warns(
    admin_client: Client,
    rooms: dict[str, Room],
    live_registry: LocalRegistry,
    layer: RecordingLayer,
) -> None:
    response = admin_client.post(
        reverse("admin:rooms_room_changelist"),
        {"action": "close_selected_rooms", "_selected_action": [str(rooms["quiet"].pk)]},
    )
    assert response.status_code == 302
    assert layer.sent == []
    assert _messages(response) == [("warning", "None of the selected rooms is live.")]
