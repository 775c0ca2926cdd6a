"""Grants and moderator events against the Room (fakes, no aiortc): who may publish, subscribe
and moderate, what a mute and a removal tell everyone, and forged or malformed events refused."""

from __future__ import annotations

from typing import Any

import pytest

from rooms.grants import PARTICIPANT, Grant
from rooms.messages import FINAL_REMOVALS, RemovalReason
from rooms.moderation import ModerationKind
from rooms.roomtypes import PeerInfo
from rooms.sfu.moderation import NO_MODERATE_GRANT, NOT_YOURSELF
from rooms.sfu.room import NO_PUBLISH_GRANT, Room
from tests.sfu.fakes import FakeMediaFactory, FakeOutbox
from tests.sfu.test_room_rules import custom, errors, event, make_room
from tests.sfu.test_room_signaling import RENEGOTIATE, connect, offer, publish

MODERATOR = PARTICIPANT | {Grant.MODERATE}
CAMERA = "pub:video1"
MIC = "pub:audio1"


async def join(room: Room, peer_id: str, grants: frozenset[Grant] = PARTICIPANT) -> None:
    info = PeerInfo(peer_id, f"chan.{peer_id}", peer_id.upper(), grants=grants)
    await room.add_peer(info, max_participants=8)
    await room.handle_media_event(peer_id, connect(peer_id))


def mute(peer_id: str, track_id: str, muted: bool = True) -> str:
    return custom("moderateTrack", {"peerId": peer_id, "trackId": track_id, "muted": muted})


def remove(peer_id: str) -> str:
    return custom("removePeer", {"peerId": peer_id})


def published(room: Room, peer_id: str, track_id: str) -> Any:
    return room._members[peer_id].published[track_id]


@pytest.fixture
async def moderated_room() -> tuple[Room, FakeOutbox, FakeMediaFactory]:
    """mod (moderate grant), pub publishing a camera and a microphone, sub watching."""
    room, outbox, factory = make_room()
    await join(room, "mod", MODERATOR)
    await join(room, "pub")
    await join(room, "sub")
    await publish(room, "pub", {"0": CAMERA, "1": MIC})
    outbox.events.clear()
    return room, outbox, factory


def track_updates(outbox: FakeOutbox, peer_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in outbox.for_peer(peer_id, "trackUpdated")]


# --- grants -------------------------------------------------------------------------------


async def test_a_peer_without_publish_cannot_add_tracks_and_nothing_reaches_the_others() -> None:
    room, outbox, factory = make_room()
    await join(room, "viewer", frozenset({Grant.SUBSCRIBE}))
    await join(room, "other")
    await room.handle_media_event("viewer", RENEGOTIATE)
    await room.handle_media_event("viewer", offer({"0": "viewer:video1"}))
    assert errors(outbox, "viewer") == [NO_PUBLISH_GRANT]
    assert factory.made["viewer"].offers == [], "the refused offer never reached the media side"
    assert "tracksAdded" not in outbox.types_for("other")
    assert factory.made["other"].subscriptions == []
    # An offer that only receives is still answered.
    await room.handle_media_event("viewer", offer({}, metadata={}))
    assert "custom:sdpAnswer" in outbox.types_for("viewer")


async def test_a_peer_without_subscribe_is_given_no_ones_tracks() -> None:
    room, outbox, factory = make_room()
    await join(room, "pub")
    await publish(room, "pub", {"0": CAMERA})
    await join(room, "blind", frozenset({Grant.PUBLISH}))
    connected = outbox.for_peer("blind", "connected")[0]["data"]
    assert [e["tracks"] for e in connected["otherEndpoints"]] == [{}]
    await publish(room, "pub", {"0": CAMERA, "1": MIC})
    await room.handle_media_event(
        "pub", event("updateTrackMetadata", {"trackId": CAMERA, "trackMetadata": {"a": 1}})
    )
    types = outbox.types_for("blind")
    assert "tracksAdded" not in types and "trackUpdated" not in types
    assert "custom:offerData" not in types
    assert factory.made["blind"].subscriptions == []
    # It still publishes, and the others receive it.
    await publish(room, "blind", {"0": "blind:video1"})
    assert ("blind", "blind:video1") in factory.made["pub"].subscriptions
    await room.remove_peer("pub", RemovalReason.LEFT)
    assert outbox.types_for("blind")[-1] == "endpointRemoved"
    assert "tracksRemoved" not in outbox.types_for("blind")


async def test_without_grants_in_the_peer_info_everything_works_as_before() -> None:
    room, _, factory = make_room()
    await room.add_peer(PeerInfo("a", "chan.a", "A"), max_participants=8)
    await room.handle_media_event("a", connect("a"))
    await join(room, "b")
    await publish(room, "a", {"0": "a:video1"})
    assert factory.made["b"].subscriptions == [("a", "a:video1")]


# --- mute ---------------------------------------------------------------------------------


async def test_a_moderator_mutes_a_track_for_everyone_and_unmutes_it(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory],
) -> None:
    room, outbox, _ = moderated_room
    track = published(room, "pub", CAMERA)
    await room.handle_media_event("mod", mute("pub", CAMERA))
    assert track.source.muted is True
    expected = {"type": "camera", "active": True, "mutedBy": "moderator"}
    for peer_id in ("mod", "sub"):
        assert track_updates(outbox, peer_id) == [
            {"endpointId": "pub", "trackId": CAMERA, "metadata": expected}
        ]
    assert track_updates(outbox, "pub") == [], "the publisher's own client knows no such track"
    assert published(room, "pub", MIC).source.muted is False
    [record] = outbox.moderations
    assert (record.kind, record.moderator_id, record.target_id, record.track_id) == (
        ModerationKind.MUTE_TRACK,
        "mod",
        "pub",
        CAMERA,
    )
    assert (record.moderator_name, record.target_name, record.room) == ("MOD", "PUB", "r1")

    await room.handle_media_event("mod", mute("pub", CAMERA, muted=False))
    assert track.source.muted is False
    assert track_updates(outbox, "sub")[-1]["metadata"] == {"type": "camera", "active": True}
    assert [r.kind for r in outbox.moderations] == [
        ModerationKind.MUTE_TRACK,
        ModerationKind.UNMUTE_TRACK,
    ]


async def test_the_mute_stays_in_the_metadata_whatever_the_publisher_sends(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory],
) -> None:
    room, outbox, _ = moderated_room
    await room.handle_media_event("mod", mute("pub", MIC))
    await room.handle_media_event(
        "pub",
        event("updateTrackMetadata", {"trackId": MIC, "trackMetadata": {"active": True}}),
    )
    assert track_updates(outbox, "sub")[-1]["metadata"] == {"active": True, "mutedBy": "moderator"}
    await room.handle_media_event("mod", mute("pub", MIC, muted=False))
    # Nor can a publisher claim the server's key for itself.
    await room.handle_media_event(
        "pub",
        event("updateTrackMetadata", {"trackId": MIC, "trackMetadata": {"mutedBy": "moderator"}}),
    )
    assert track_updates(outbox, "sub")[-1]["metadata"] == {}


async def test_a_late_joiner_sees_the_mute_in_the_tracks_it_is_given(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory],
) -> None:
    room, outbox, _ = moderated_room
    await room.handle_media_event("mod", mute("pub", CAMERA))
    await join(room, "late")
    [added] = [e["data"] for e in outbox.for_peer("late", "tracksAdded")]
    assert added["tracks"][CAMERA]["metadata"]["mutedBy"] == "moderator"
    assert "mutedBy" not in added["tracks"][MIC]["metadata"]


async def test_muting_twice_changes_and_records_nothing_more(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory],
) -> None:
    room, outbox, _ = moderated_room
    await room.handle_media_event("mod", mute("pub", CAMERA))
    await room.handle_media_event("mod", mute("pub", CAMERA))
    assert len(outbox.moderations) == 1 and len(track_updates(outbox, "sub")) == 1
    assert errors(outbox, "mod") == []


# --- removal ------------------------------------------------------------------------------


async def test_a_moderator_removes_a_peer_who_is_told_why_and_is_not_rejoined(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory],
) -> None:
    room, outbox, factory = moderated_room
    await room.handle_media_event("mod", remove("pub"))
    assert outbox.for_peer("pub", "endpointRemoved") == [
        {"type": "endpointRemoved", "data": {"id": "pub", "reason": "removed_by_moderator"}}
    ]
    assert outbox.left == [("pub", RemovalReason.REMOVED_BY_MODERATOR)]
    assert RemovalReason.REMOVED_BY_MODERATOR in FINAL_REMOVALS
    assert factory.made["pub"].closed
    assert outbox.types_for("sub")[:2] == ["tracksRemoved", "endpointRemoved"]
    assert [p.peer_id for p in room.peers] == ["mod", "sub"]
    [record] = outbox.moderations
    assert (record.kind, record.target_id, record.track_id) == (
        ModerationKind.REMOVE_PEER,
        "pub",
        "",
    )


# --- forged and malformed ----------------------------------------------------------------


@pytest.mark.parametrize("data", [mute("pub", CAMERA), remove("pub")])
async def test_a_moderator_event_without_the_grant_is_refused_and_changes_nothing(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory], data: str
) -> None:
    room, outbox, _ = moderated_room
    await room.handle_media_event("sub", data)
    assert errors(outbox, "sub") == [NO_MODERATE_GRANT]
    assert published(room, "pub", CAMERA).source.muted is False
    assert [p.peer_id for p in room.peers] == ["mod", "pub", "sub"]
    assert outbox.left == [] and outbox.moderations == []
    assert [pid for pid, _ in outbox.events] == ["sub"], "only the sender heard of it"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (mute("ghost", "ghost:1"), "unknown peer 'ghost'"),
        (remove("ghost"), "unknown peer 'ghost'"),
        (mute("mod", "mod:1"), NOT_YOURSELF),
        (remove("mod"), NOT_YOURSELF),
        (mute("pub", "sub:video1"), "track id 'sub:video1' is not peer 'pub''s"),
        (mute("pub", "pub:nothing"), "unknown track 'pub:nothing' of peer 'pub'"),
        (
            custom("moderateTrack", {"peerId": "pub", "trackId": CAMERA, "muted": "yes"}),
            "moderateTrack.muted must be true or false",
        ),
        (
            custom("moderateTrack", {"peerId": "pub", "trackId": CAMERA, "muted": 1}),
            "moderateTrack.muted must be true or false",
        ),
        (
            custom("moderateTrack", {"peerId": "pub", "muted": True}),
            "moderateTrack.trackId must be a non-empty string",
        ),
        (
            custom("moderateTrack", {"peerId": "p" * 41, "trackId": CAMERA, "muted": True}),
            "moderateTrack.peerId over 40 characters",
        ),
        (
            custom(
                "moderateTrack", {"peerId": "pub", "trackId": "pub:" + "x" * 300, "muted": True}
            ),
            "moderateTrack.trackId over 200 characters",
        ),
        (custom("removePeer", {"peerId": ["pub"]}), "removePeer.peerId must be a non-empty string"),
        (custom("removePeer", "pub"), "removePeer data must be an object"),
    ],
)
async def test_a_malformed_moderator_event_is_refused_by_name_and_changes_nothing(
    moderated_room: tuple[Room, FakeOutbox, FakeMediaFactory], data: str, message: str
) -> None:
    room, outbox, _ = moderated_room
    await room.handle_media_event("mod", data)
    assert errors(outbox, "mod") == [message]
    assert published(room, "pub", CAMERA).source.muted is False
    assert [p.peer_id for p in room.peers] == ["mod", "pub", "sub"]
    assert outbox.moderations == [] and outbox.left == []


async def test_a_peer_admitted_but_not_connected_cannot_be_targeted() -> None:
    room, outbox, _ = make_room()
    await join(room, "mod", MODERATOR)
    await room.add_peer(PeerInfo("hidden", "chan.hidden", "H"), max_participants=8)
    await room.handle_media_event("mod", remove("hidden"))
    assert errors(outbox, "mod") == ["unknown peer 'hidden'"]
    assert [p.peer_id for p in room.peers] == ["mod", "hidden"]
