"""Hostile and sloppy peers against the Room (fakes, no aiortc): each refusal is an ``error``
event to the sender naming the bound, and nothing changes for anyone."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from rooms.limits import Limits
from rooms.messages import FINAL_REMOVALS, JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from tests.sfu.fakes import FakeMediaFactory, FakeOutbox
from tests.sfu.test_room_signaling import RENEGOTIATE, connect, offer, peer, publish, sdp_for

CANDIDATE = "candidate:1 1 udp 2122260223 192.0.2.9 40000 typ host generation 0"


def make_room(**limits: Any) -> tuple[Room, FakeOutbox, FakeMediaFactory]:
    outbox = FakeOutbox()
    factory = FakeMediaFactory()
    room = Room(
        "r1",
        outbox=outbox,
        media=MediaConfig(),
        limits=dataclasses.replace(Limits(), **limits),
        media_factory=factory,
    )
    outbox.room = room
    return room, outbox, factory


async def connected(room: Room, *peer_ids: str) -> None:
    for pid in peer_ids:
        await room.add_peer(peer(pid), max_participants=8)
        await room.handle_media_event(pid, connect(pid))


def errors(outbox: FakeOutbox, peer_id: str) -> list[str]:
    return [e["data"]["message"] for e in outbox.for_peer(peer_id, "error")]


def event(kind: str, data: Any) -> str:
    return json.dumps({"type": kind, "data": data})


def custom(kind: str, data: Any) -> str:
    return json.dumps({"type": "custom", "data": {"type": kind, "data": data}})


def candidate(line: str) -> str:
    return custom("candidate", {"candidate": line, "sdpMLineIndex": 0})


def raw_offer(sdp: str, mid_to_track: dict[str, str] | None = None) -> str:
    return custom(
        "sdpOffer",
        {
            "sdpOffer": {"type": "offer", "sdp": sdp},
            "trackIdToTrackMetadata": {},
            "midToTrackId": mid_to_track or {},
        },
    )


# --- a peer acts only on itself ------------------------------------------------------


async def test_a_track_id_of_another_peer_is_refused_and_changes_nothing() -> None:
    """The reported attack: B publishes A's track id, then removes it; C keeps A's track."""
    room, outbox, factory = make_room()
    await connected(room, "a", "b", "c")
    await publish(room, "a", {"0": "a:video1"})
    assert factory.made["c"].subscriptions == [("a", "a:video1")]
    await room.handle_media_event("b", RENEGOTIATE)
    await room.handle_media_event("b", offer({"0": "a:video1"}))
    await room.handle_media_event("b", offer({}))
    assert errors(outbox, "b") == [
        "track id 'a:video1' is not yours (must start with 'b:')",
    ]
    assert factory.made["b"].offers[-1].mid_to_track_id == {}
    assert factory.made["c"].subscriptions == [("a", "a:video1")]
    assert "tracksRemoved" not in outbox.types_for("c")


@pytest.mark.parametrize(
    "raw",
    [
        event("updateTrackMetadata", {"trackId": "a:video1", "trackMetadata": {"active": False}}),
        custom(
            "sdpOffer",
            {
                "sdpOffer": {"type": "offer", "sdp": sdp_for({"0": "b:video1"})},
                "trackIdToTrackMetadata": {"a:video1": {"active": False}},
                "midToTrackId": {"0": "b:video1"},
            },
        ),
        offer({"0": "b"}),  # no "<peerId>:" prefix
        offer({"0": "b:"}),
    ],
    ids=["update", "metadata-map", "no-prefix", "empty-suffix"],
)
async def test_naming_a_track_that_is_not_yours_is_an_error(raw: str) -> None:
    room, outbox, factory = make_room()
    await connected(room, "a", "b")
    await publish(room, "a", {"0": "a:video1"})
    before = list(outbox.events)
    await room.handle_media_event("b", raw)
    assert len(errors(outbox, "b")) == 1 and "is not yours" in errors(outbox, "b")[0]
    assert [e for e in outbox.events if e not in before] == [
        ("b", {"type": "error", "data": {"message": errors(outbox, "b")[0]}})
    ]
    assert factory.made["b"].offers == []


# --- bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "displayName must be 1 to 64 characters (display_name_chars)"),
        ("   ", "displayName must be 1 to 64 characters (display_name_chars)"),
        ("x" * 65, "displayName must be 1 to 64 characters (display_name_chars)"),
        ("Ann\nadmin", "displayName must not contain control characters"),
        ("Ann\u2028", "displayName must not contain control characters"),
        (7, "displayName must be a string"),
    ],
)
async def test_display_names_are_bounded_on_connect_and_on_update(
    name: object, message: str
) -> None:
    room, outbox, _ = make_room()
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", event("connect", {"metadata": {"displayName": name}}))
    assert errors(outbox, "a") == [message]
    assert outbox.types_for("a") == ["error"]
    await room.handle_media_event("a", connect("Ann"))
    await room.handle_media_event(
        "a", event("updateEndpointMetadata", {"metadata": {"displayName": name}})
    )
    assert errors(outbox, "a") == [message, message]


async def test_metadata_sizes_are_bounded() -> None:
    room, outbox, _ = make_room(endpoint_metadata_bytes=100, track_metadata_bytes=50)
    await connected(room, "a", "b")
    big = {"displayName": "A", "blob": "x" * 100}
    await room.handle_media_event("a", event("updateEndpointMetadata", {"metadata": big}))
    await room.handle_media_event("a", offer({"0": "a:video1"}, {"a:video1": {"x": "y" * 50}}))
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event(
        "a", event("updateTrackMetadata", {"trackId": "a:video1", "trackMetadata": {"x": "y" * 50}})
    )
    assert errors(outbox, "a") == [
        "metadata over 100 bytes (endpoint_metadata_bytes)",
        "metadata of track 'a:video1' over 50 bytes (track_metadata_bytes)",
        "metadata of track 'a:video1' over 50 bytes (track_metadata_bytes)",
    ]
    assert outbox.for_peer("b", "endpointUpdated") == []
    assert outbox.for_peer("b", "trackUpdated") == []


async def test_tracks_per_peer_is_bounded() -> None:
    room, outbox, factory = make_room(tracks_per_peer=2)
    await connected(room, "a")
    await room.handle_media_event("a", offer({"0": "a:1", "1": "a:2", "2": "a:3"}))
    assert errors(outbox, "a") == ["more than 2 tracks (tracks_per_peer)"]
    assert factory.made["a"].offers == []


@pytest.mark.parametrize(
    ("limits", "sdp", "message"),
    [
        ({"sdp_bytes": 100}, sdp_for({str(i): f"a:{i}" for i in range(4)}), "over 100 bytes"),
        (
            {"offer_media_sections": 3},
            sdp_for({str(i): f"a:{i}" for i in range(4)}).replace("a=sendonly", "a=recvonly"),
            "more than 3 m-lines (offer_media_sections)",
        ),
        ({}, "hello world", "not an SDP description (must start with v=0)"),
        ({}, "v=0\r\ns=-\r\n", "no media sections"),
        ({}, "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", "only audio and"),
        # A bare CR or a Unicode line break is a line break to aiortc's parser: counted too.
        ({"offer_media_sections": 1}, "v=0\rm=audio 9 x 0\u2028m=audio 9 x 0\r\n", "m-lines"),
    ],
    ids=["bytes", "m-lines", "hello-world", "no-media", "datachannel", "line-breaks"],
)
async def test_offers_past_a_bound_cost_no_media_work(
    limits: dict[str, Any], sdp: str, message: str
) -> None:
    room, outbox, factory = make_room(**limits)
    await connected(room, "a")
    await room.handle_media_event("a", raw_offer(sdp))
    [error] = errors(outbox, "a")
    assert error.startswith("invalid sdpOffer: ") and message in error
    assert factory.made["a"].offers == []


async def test_candidates_are_bounded_per_negotiation_and_per_peer() -> None:
    room, outbox, factory = make_room(candidates_per_negotiation=3, candidates_per_peer=4)
    await connected(room, "a")

    def at(port: int) -> str:
        return CANDIDATE.replace("40000", str(port))

    with_two = sdp_for({"0": "a:video1"}) + f"a={at(1)}\r\na={at(2)}\r\n"
    await room.handle_media_event("a", raw_offer(with_two, {"0": "a:video1"}))
    await room.handle_media_event("a", candidate(at(3)))
    await room.handle_media_event("a", candidate(at(4)))
    assert errors(outbox, "a") == [
        "more than 3 candidates in one negotiation (candidates_per_negotiation)"
    ]
    # New negotiations: the same two again count once toward the peer's addresses.
    await room.handle_media_event("a", raw_offer(with_two, {"0": "a:video1"}))
    await room.handle_media_event("a", candidate(at(5)))  # {1, 2, 3, 5}
    await room.handle_media_event("a", raw_offer(with_two, {"0": "a:video1"}))
    await room.handle_media_event("a", candidate(at(6)))
    assert errors(outbox, "a")[-1] == "more than 4 candidates (candidates_per_peer)"
    assert [c.port for c in factory.made["a"].candidates] == [3, 5]


async def test_a_flood_of_media_events_gets_one_error_and_is_dropped() -> None:
    room, outbox, factory = make_room(media_event_burst=5, media_events_per_second=0.001)
    await connected(room, "a")  # 1 event
    for _ in range(10):
        await room.handle_media_event("a", candidate(CANDIDATE))
    assert errors(outbox, "a") == ["rate limited (media_event_burst, media_events_per_second)"]
    assert len(factory.made["a"].candidates) == 4  # the burst, less the connect
    assert len(room.peers) == 1


async def test_the_bucket_refills() -> None:
    room, outbox, _ = make_room(media_event_burst=1, media_events_per_second=50.0)
    await room.add_peer(peer("a"), max_participants=4)
    await room.handle_media_event("a", RENEGOTIATE)  # "connect first"
    await room.handle_media_event("a", RENEGOTIATE)  # dropped
    await asyncio.sleep(0.05)
    await room.handle_media_event("a", connect("a"))
    assert errors(outbox, "a") == [
        "connect first",
        "rate limited (media_event_burst, media_events_per_second)",
    ]
    assert outbox.types_for("a")[-1] == "connected"


# --- strict JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"type":"updateEndpointMetadata","data":{"metadata":{"x":NaN}}}',
        '{"type":"updateEndpointMetadata","data":{"metadata":{"x":Infinity}}}',
        '{"type":"updateEndpointMetadata","data":{"metadata":{"x":"\\ud800"}}}',
        '{"type":"updateEndpointMetadata","data":{"metadata":{"\\udfff":1}}}',
    ],
)
async def test_media_events_that_are_not_strict_json_are_refused(raw: str) -> None:
    room, outbox, _ = make_room()
    await connected(room, "a", "b")
    await room.handle_media_event("a", raw)
    assert errors(outbox, "a")[0].startswith("media event is not valid JSON")
    assert outbox.for_peer("b", "endpointUpdated") == []


# --- candidates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "candidate:hello",
        "candidate:1 0 udp 2122260223 192.0.2.9 40000 typ host",
        "candidate:1 x udp 2122260223 192.0.2.9 40000 typ host",
        "candidate:1 1 udp 2122260223 192.0.2.9 70000 typ host",
        "candidate:1 1 udp 2122260223 192.0.2.9 -1 typ host",
        "candidate:1 1 sctp 2122260223 192.0.2.9 40000 typ host",
        "candidate:1 1 udp 2122260223 192.0.2.9 40000 typo host",
        "candidate:1 1 udp 2122260223 192.0.2.9 40000 typ bogus",
        "candidate:1 1 udp 2122260223 192.0.2.9 40000 typ host raddr",
        "candidate:1 1 udp 2122260223 192.0.2.9 40000 typ srflx raddr x rport 1",
        "candidate:1 1 udp 99999999999 192.0.2.9 40000 typ host",
        "a=hello",
    ],
)
async def test_malformed_candidates_are_errors(line: str) -> None:
    room, outbox, factory = make_room()
    await connected(room, "a")
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event("a", candidate(line))
    [error] = errors(outbox, "a")
    assert error.startswith("invalid candidate: ")
    assert factory.made["a"].candidates == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "169.254.169.254",
        "fd00:ec2::254",
        "fe80::1",
        "224.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "abc.local",
        "example.org",
    ],
)
async def test_candidates_for_denied_addresses_are_dropped(address: str) -> None:
    room, outbox, factory = make_room()
    await connected(room, "a")
    await publish(room, "a", {"0": "a:video1"})
    await room.handle_media_event("a", candidate(CANDIDATE.replace("192.0.2.9", address)))
    await room.handle_media_event("a", candidate(CANDIDATE))
    assert errors(outbox, "a") == []
    assert [c.host for c in factory.made["a"].candidates] == ["192.0.2.9"]


async def test_offer_candidates_for_denied_addresses_are_stripped() -> None:
    room, _, factory = make_room()
    await connected(room, "a")
    denied = CANDIDATE.replace("192.0.2.9", "169.254.169.254")
    sdp = sdp_for({"0": "a:video1"}) + f"a={denied}\r\na={CANDIDATE}\r\na=candidate:junk\r\n"
    await room.handle_media_event("a", raw_offer(sdp, {"0": "a:video1"}))
    applied = factory.made["a"].offers[0].sdp
    assert "169.254.169.254" not in applied and "junk" not in applied
    assert f"a={CANDIDATE}\r\n" in applied


# --- no squatting ------------------------------------------------------------------------


async def test_a_peer_that_never_connects_is_removed_and_not_rejoined() -> None:
    room, outbox, _ = make_room(connect_timeout_seconds=0.05)
    await room.add_peer(peer("a"), max_participants=4)
    await asyncio.sleep(0.15)
    assert outbox.left == [("a", RemovalReason.CONNECT_TIMEOUT)]
    assert RemovalReason.CONNECT_TIMEOUT in FINAL_REMOVALS
    assert room.peers == []


async def test_connect_in_time_cancels_the_timeout_and_disconnect_restarts_it() -> None:
    room, outbox, _ = make_room(connect_timeout_seconds=0.05)
    await connected(room, "a")
    await asyncio.sleep(0.1)
    assert outbox.left == []
    await room.handle_media_event("a", event("disconnect", None).replace(',"data":null', ""))
    await asyncio.sleep(0.15)
    assert outbox.left == [("a", RemovalReason.CONNECT_TIMEOUT)]


async def test_close_and_removal_leave_no_timer_task() -> None:
    room, _, _ = make_room(connect_timeout_seconds=30)
    await room.add_peer(peer("a"), max_participants=4)
    await room.add_peer(peer("b"), max_participants=4)
    await room.remove_peer("a", RemovalReason.LEFT)
    await room.close(RemovalReason.ROOM_CLOSED)
    await asyncio.sleep(0)
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current and not t.done()] == []


async def test_room_full_counts_connected_peers_and_bounds_the_unconnected() -> None:
    room, outbox, _ = make_room()
    await room.add_peer(peer("a"), max_participants=2)
    await room.add_peer(peer("b"), max_participants=2)
    with pytest.raises(JoinRefused) as info:  # two unconnected: the pending bound
        await room.add_peer(peer("c"), max_participants=2)
    assert info.value.reason == JoinRefusal.FULL
    for pid in ("a", "b"):
        await room.handle_media_event(pid, connect(pid))
    await room.add_peer(peer("c"), max_participants=3)  # 2 visible, 0 pending
    await room.add_peer(peer("d"), max_participants=3)
    await room.handle_media_event("c", connect("c"))
    await room.handle_media_event("d", connect("d"))  # the fourth visible peer of three
    assert errors(outbox, "d") == ["room full"]
    assert sorted(p for p in ("a", "b", "c", "d") if "connected" in outbox.types_for(p)) == [
        "a",
        "b",
        "c",
    ]
    await room.close(RemovalReason.ROOM_CLOSED)


async def test_renamed_mids_cannot_grow_a_connection_past_the_m_line_bound() -> None:
    room, outbox, factory = make_room(offer_media_sections=3)
    await connected(room, "a")
    await room.handle_media_event("a", raw_offer(sdp_for({"0": "a:1", "1": "a:2"})))
    await room.handle_media_event("a", raw_offer(sdp_for({"x": "a:1", "y": "a:2"})))
    assert errors(outbox, "a") == [
        "invalid sdpOffer: more than 3 m-lines on one connection (offer_media_sections)"
    ]
    assert len(factory.made["a"].offers) == 1
