"""Room signaling order with a recording outbox and a scripted PeerMedia (no aiortc)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from rooms.grants import Grant
from rooms.limits import Limits
from rooms.messages import JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused, PeerInfo
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from tests.sfu.fakes import FakeMediaFactory, FakeOutbox


def peer(peer_id: str) -> PeerInfo:
    return PeerInfo(peer_id=peer_id, channel=f"chan.{peer_id}", display_name=peer_id.upper())


def connect(name: str = "") -> str:
    return json.dumps({"type": "connect", "data": {"metadata": {"displayName": name}}})


def sdp_for(mid_to_track: dict[str, str]) -> str:
    """A minimal SDP with one m-line per mid (the fake media reads only the maps)."""
    lines = ["v=0"]
    for mid, track_id in mid_to_track.items():
        kind = "audio" if "audio" in track_id else "video"
        lines += [f"m={kind} 9 UDP/TLS/RTP/SAVPF 96", f"a=mid:{mid}", "a=sendonly"]
    if not mid_to_track:
        lines += ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:0", "a=inactive"]
    return "\r\n".join(lines) + "\r\n"


def offer(mid_to_track: dict[str, str], metadata: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "type": "custom",
            "data": {
                "type": "sdpOffer",
                "data": {
                    "sdpOffer": {"type": "offer", "sdp": sdp_for(mid_to_track)},
                    "trackIdToTrackMetadata": metadata
                    or {t: {"type": "camera", "active": True} for t in mid_to_track.values()},
                    "midToTrackId": mid_to_track,
                },
            },
        }
    )


RENEGOTIATE = json.dumps({"type": "custom", "data": {"type": "renegotiateTracks"}})


@pytest.fixture
def setup() -> tuple[Room, FakeOutbox, FakeMediaFactory]:
    outbox = FakeOutbox()
    factory = FakeMediaFactory()
    room = Room("r1", outbox=outbox, media=MediaConfig(), limits=Limits(), media_factory=factory)
    outbox.room = room
    return room, outbox, factory


async def publish(room: Room, peer_id: str, tracks: dict[str, str]) -> None:
    await room.handle_media_event(peer_id, RENEGOTIATE)
    await room.handle_media_event(peer_id, offer(tracks))


async def test_first_peer_gets_connected_with_no_others(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("Ann"))
    assert outbox.events == [
        ("a", {"type": "connected", "data": {"id": "a", "otherEndpoints": []}})
    ]


async def test_full_room_refuses_join(setup: Any) -> None:
    room, _, _ = setup
    await room.add_peer(peer("a"), max_participants=1)
    with pytest.raises(JoinRefused) as info:
        await room.add_peer(peer("b"), max_participants=1)
    assert info.value.reason == JoinRefusal.FULL


async def test_admitted_peer_is_invisible_until_connect(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("Ann"))
    await room.add_peer(peer("b"), max_participants=4)
    assert outbox.types_for("a") == ["connected"]
    await room.handle_media_event("b", connect("Bob"))
    assert outbox.types_for("a") == ["connected", "endpointAdded"]
    added = outbox.for_peer("a", "endpointAdded")[0]["data"]
    # The name checked at join ("B") wins over the one in connect.
    assert added == {"id": "b", "type": "webrtc", "metadata": {"displayName": "B"}}


async def test_publisher_tracks_reach_others_with_offer_data(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await publish(room, "a", {"0": "a:audio1", "1": "a:video1"})
    assert outbox.types_for("a")[-3:] == [
        "custom:offerData",
        "custom:sdpAnswer",
        "custom:candidate",
    ]
    assert outbox.types_for("b")[-2:] == ["tracksAdded", "custom:offerData"]
    added = outbox.for_peer("b", "tracksAdded")[0]["data"]
    assert added["endpointId"] == "a"
    assert set(added["tracks"]) == {"a:audio1", "a:video1"}
    offer_data = outbox.events[-1][1]["data"]["data"]
    assert offer_data["tracksTypes"] == {"audio": 1, "video": 1}
    assert factory.made["b"].subscribed == ["a:audio1", "a:video1"]


async def test_late_joiner_gets_connected_then_tracks_added_then_offer_data(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("a"))
    await publish(room, "a", {"0": "a:video1"})
    await room.add_peer(peer("b"), max_participants=4)
    await room.handle_media_event("b", connect("b"))
    assert outbox.types_for("b") == ["connected", "tracksAdded", "custom:offerData"]
    other = outbox.for_peer("b", "connected")[0]["data"]["otherEndpoints"][0]
    assert other["id"] == "a"
    assert set(other["tracks"]) == {"a:video1"}
    assert set(other["trackIdToMetadata"]) == {"a:video1"}


async def test_no_offer_data_when_nothing_to_negotiate(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("a"))
    await room.add_peer(peer("b"), max_participants=4)
    await room.handle_media_event("b", connect("b"))
    assert "custom:offerData" not in outbox.types_for("a") + outbox.types_for("b")


async def test_second_change_waits_for_the_open_negotiation(setup: Any) -> None:
    room, outbox, _ = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event("a", offer({"0": "a:video1", "1": "a:audio2"}))
    # b had one offerData open: the second tracksAdded must not open another.
    assert outbox.types_for("b").count("custom:offerData") == 1
    await room.handle_media_event("b", offer({}))
    assert outbox.types_for("b")[-3:] == [
        "custom:sdpAnswer",
        "custom:candidate",
        "custom:offerData",
    ]
    assert outbox.events[-1][1]["data"]["data"]["tracksTypes"] == {"audio": 1, "video": 1}


async def test_metadata_updates_reach_others(setup: Any) -> None:
    room, outbox, _ = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event(
        "a",
        json.dumps(
            {"type": "updateEndpointMetadata", "data": {"metadata": {"displayName": "Z", "x": 1}}}
        ),
    )
    await room.handle_media_event(
        "a",
        json.dumps(
            {
                "type": "updateTrackMetadata",
                "data": {
                    "trackId": "a:video1",
                    "trackMetadata": {"type": "camera", "active": False},
                },
            }
        ),
    )
    # The rest of the metadata changes; the name stays the one checked at join.
    assert outbox.for_peer("b", "endpointUpdated")[0]["data"] == {
        "id": "a",
        "metadata": {"displayName": "A", "x": 1},
    }
    assert outbox.for_peer("b", "trackUpdated")[0]["data"] == {
        "endpointId": "a",
        "trackId": "a:video1",
        "metadata": {"type": "camera", "active": False},
    }


async def test_track_removed_by_a_later_offer_is_announced(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await publish(room, "a", {"0": "a:video1", "1": "a:video2"})
    await room.handle_media_event("b", offer({}))
    await room.handle_media_event("a", offer({"0": "a:video1"}))
    removed = outbox.for_peer("b", "tracksRemoved")
    assert removed[0]["data"] == {"endpointId": "a", "trackIds": ["a:video2"]}
    assert outbox.types_for("b")[-1] == "custom:offerData"
    assert factory.made["b"].subscribed == ["a:video1"]


async def test_leave_sends_tracks_removed_before_endpoint_removed(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event("b", offer({}))
    await room.remove_peer("a", RemovalReason.LEFT)
    tail = outbox.types_for("b")[-3:]
    assert tail == ["tracksRemoved", "endpointRemoved", "custom:offerData"]
    assert outbox.left == [("a", RemovalReason.LEFT)]
    assert factory.made["a"].closed
    assert [p.peer_id for p in room.peers] == ["b"]


async def test_remove_peer_is_idempotent_and_reports_once(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.remove_peer("a", RemovalReason.KICKED)
    await room.remove_peer("a", RemovalReason.LEFT)
    assert outbox.left == [("a", RemovalReason.KICKED)]


async def test_disconnect_hides_but_keeps_the_peer_admitted(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await room.handle_media_event("a", '{"type":"disconnect"}')
    assert outbox.types_for("b")[-1] == "endpointRemoved"
    assert factory.made["a"].closed
    assert outbox.left == []
    assert len(room.peers) == 2


async def test_close_reports_every_peer_once(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    await room.close(RemovalReason.ROOM_CLOSED)
    assert sorted(outbox.left) == [
        ("a", RemovalReason.ROOM_CLOSED),
        ("b", RemovalReason.ROOM_CLOSED),
    ]
    assert room.peers == []
    assert all(m.closed for m in factory.made.values())


async def test_media_failure_removes_the_peer_for_everyone(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    factory.made["a"].on_failure()
    for _ in range(20):
        if outbox.left:
            break
        await asyncio.sleep(0.01)
    assert outbox.left == [("a", RemovalReason.MEDIA_FAILED)]
    assert outbox.types_for("b")[-1] == "endpointRemoved"


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        '{"type":"nope"}',
        '{"type":"updateTrackMetadata","data":{"trackId":"zz","trackMetadata":{}}}',
    ],
)
async def test_bad_events_get_an_error_event_and_change_nothing(setup: Any, raw: str) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("a"))
    await room.handle_media_event("a", raw)
    assert outbox.types_for("a") == ["connected", "error"]
    assert len(room.peers) == 1


async def test_events_before_connect_get_an_error(setup: Any) -> None:
    room, outbox, _ = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", RENEGOTIATE)
    assert outbox.for_peer("a", "error")[0]["data"] == {"message": "connect first"}


async def test_events_from_unknown_peers_are_dropped(setup: Any) -> None:
    room, outbox, _ = setup
    await room.handle_media_event("ghost", connect("g"))
    assert outbox.events == []


async def test_a_failure_inside_the_media_side_is_reported_to_that_peer_only(setup: Any) -> None:
    room, outbox, factory = setup
    for pid in ("a", "b"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))

    async def broken(offer: Any) -> Any:
        raise RuntimeError("aiortc exploded")

    factory.made["a"].apply_offer = broken
    await room.handle_media_event("a", offer({"0": "a:video1"}))
    assert outbox.for_peer("a", "error")[0]["data"] == {"message": "internal error"}
    assert outbox.types_for("b") == ["connected"]
    assert len(room.peers) == 2


async def test_a_peer_removed_during_its_offer_gets_no_answer(setup: Any) -> None:
    room, outbox, factory = setup
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("a"))
    media = factory.made["a"]
    original = media.apply_offer

    async def slow(offer: Any) -> Any:
        await room.remove_peer("a", RemovalReason.DISCONNECTED)
        return await original(offer)

    media.apply_offer = slow
    await room.handle_media_event("a", offer({"0": "a:video1"}))
    assert outbox.types_for("a") == ["connected"]
    assert outbox.left == [("a", RemovalReason.DISCONNECTED)]


async def test_an_outbox_failure_for_one_peer_does_not_stop_the_others(setup: Any) -> None:
    room, outbox, _ = setup
    for pid in ("a", "b", "c"):
        await room.add_peer(peer(pid), max_participants=4)
        await room.handle_media_event(pid, connect(pid))
    record = outbox.media_event

    async def flaky(info: PeerInfo, data: str) -> None:
        if info.peer_id == "b":
            raise ConnectionError("layer down")
        await record(info, data)

    outbox.media_event = flaky
    await room.remove_peer("a", RemovalReason.LEFT)
    assert outbox.types_for("c")[-1] == "endpointRemoved"
    assert outbox.left == [("a", RemovalReason.LEFT)]


async def test_a_track_published_while_a_peer_connects_reaches_it_once(setup: Any) -> None:
    room, outbox, factory = setup
    record = outbox.media_event

    async def slow(info: PeerInfo, data: str) -> None:
        # A layer send yields to other handlers; the `connected` one for long.
        await asyncio.sleep(0.1 if '"connected"' in data else 0.001)
        await record(info, data)

    outbox.media_event = slow
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", connect("a"))
    await room.handle_media_event("a", RENEGOTIATE)
    await room.add_peer(peer("b"), max_participants=4)
    await asyncio.gather(
        room.handle_media_event("b", connect("b")),
        room.handle_media_event("a", offer({"0": "a:video1"})),
    )
    assert factory.made["b"].subscribed == ["a:video1"]
    announced = [tid for e in outbox.for_peer("b", "tracksAdded") for tid in e["data"]["tracks"]]
    assert announced == ["a:video1"]


async def test_voice_activity_goes_to_the_tracks_subscribers_only(setup: Any) -> None:
    room, outbox, factory = setup
    listener = dataclasses.replace(peer("c"), grants=frozenset({Grant.PUBLISH}))
    for info in (peer("a"), peer("b"), listener):
        await room.add_peer(info, max_participants=4)
        await room.handle_media_event(info.peer_id, connect(info.peer_id))
    await publish(room, "a", {"0": "a:audio"})
    voice = factory.made["a"].sources["a:audio"].voice
    assert voice is not None
    voice("a", "a:audio", "speech")
    voice("a", "a:audio", "silence")
    await asyncio.sleep(0.05)  # the notifications are sent from a task
    assert [e["data"]["data"] for e in outbox.for_peer("b", "custom")[-2:]] == [
        {"trackId": "a:audio", "status": "speech"},
        {"trackId": "a:audio", "status": "silence"},
    ]
    assert "custom:vadNotification" not in outbox.types_for("a")  # the publisher
    assert "custom:vadNotification" not in outbox.types_for("c")  # no subscribe grant
    await publish(room, "a", {})  # unpublished: a late change from its RTP path is dropped
    voice("a", "a:audio", "speech")
    await asyncio.sleep(0.05)
    assert outbox.types_for("b").count("custom:vadNotification") == 2
