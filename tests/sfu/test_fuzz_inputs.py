"""A little fuzzing of the SDP and candidate paths through a Room with real aiortc endpoints.

Whatever the mutation, the sender gets an answer or an ``error`` event that names the
problem; never "internal error" (an exception that escaped the checks and aiortc's own
error types), and the room carries on. Seeded, so a failure reproduces.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from rooms.limits import Limits
from rooms.messages import RemovalReason
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from tests.sfu.client import EncodedVideoTrack
from tests.sfu.fakes import FakeOutbox
from tests.sfu.test_room_signaling import connect, peer

pytestmark = pytest.mark.media

ROUNDS = int(os.environ.get("FUZZ_ROUNDS", "40"))
ROUNDS_SEED = int(os.environ.get("FUZZ_SEED", "9"))
JUNK = ["", " ", "-1", "0", "99999999999999999999", "x", "a=", ":", "/", "\x00", "IN IP4", "é"]


async def browser_like_offer() -> tuple[str, dict[str, str]]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(EncodedVideoTrack(), direction="sendonly")
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp, {"0": "fuzz:video"}


def mutate(sdp: str, rng: random.Random) -> str:
    lines = sdp.split("\r\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        action = rng.randrange(6)
        if action == 0:
            del lines[i]
        elif action == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif action == 2:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif action == 3:
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(JUNK)
            lines[i] = " ".join(words)
        elif action == 4:
            head, _, _ = lines[i].partition(":")
            lines[i] = f"{head}:{rng.choice(JUNK)}"
        else:
            lines.insert(i, rng.choice(["a=", "m=video", "c=", "a=rtpmap:", "a=fmtp:96 x"]))
    return "\r\n".join(lines)


def sdp_offer(sdp: str, mids: dict[str, str]) -> str:
    return json.dumps(
        {
            "type": "custom",
            "data": {
                "type": "sdpOffer",
                "data": {
                    "sdpOffer": {"type": "offer", "sdp": sdp},
                    "trackIdToTrackMetadata": {},
                    "midToTrackId": mids,
                },
            },
        }
    )


@pytest.fixture
async def room() -> AsyncIterator[tuple[Room, FakeOutbox]]:
    outbox = FakeOutbox()
    limits = Limits(
        media_event_burst=10_000, candidates_per_negotiation=10_000, candidates_per_peer=10_000
    )
    room = Room("fuzz", outbox=outbox, media=MediaConfig(), limits=limits)
    outbox.room = room
    yield room, outbox
    await room.close(RemovalReason.ROOM_CLOSED)


def internal_errors(outbox: FakeOutbox) -> list[str]:
    return [
        e["data"]["message"]
        for _, e in outbox.events
        if e["type"] == "error" and e["data"]["message"] == "internal error"
    ]


@pytest.mark.parametrize("renegotiation", [False, True], ids=["first", "renegotiation"])
async def test_mutated_offers_are_answered_or_refused(
    room: tuple[Room, FakeOutbox], renegotiation: bool
) -> None:
    room_, outbox = room
    base, mids = await browser_like_offer()
    rng = random.Random(ROUNDS_SEED + renegotiation)
    for round_ in range(ROUNDS):
        peer_id = f"fuzz{round_}"
        sdp = mutate(base, rng)
        await room_.add_peer(peer(peer_id), max_participants=ROUNDS)
        await room_.handle_media_event(peer_id, connect(peer_id))
        if renegotiation:
            await room_.handle_media_event(peer_id, sdp_offer(base, {"0": f"{peer_id}:video"}))
        await room_.handle_media_event(peer_id, sdp_offer(sdp, {"0": f"{peer_id}:video"}))
        assert internal_errors(outbox) == [], sdp
        await room_.remove_peer(peer_id, RemovalReason.LEFT)
    assert mids


async def test_mutated_candidates_are_added_or_refused(room: tuple[Room, FakeOutbox]) -> None:
    room_, outbox = room
    base, _ = await browser_like_offer()
    await room_.add_peer(peer("fuzz"), max_participants=4)
    await room_.handle_media_event("fuzz", connect("fuzz"))
    await room_.handle_media_event("fuzz", sdp_offer(base, {"0": "fuzz:video"}))
    good = "candidate:1 1 udp 2122260223 192.0.2.9 40000 typ host generation 0"
    rng = random.Random(7)
    for _ in range(150):
        words = good.split(" ")
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(JUNK)
        if rng.random() < 0.3:
            words = words[: rng.randrange(len(words))]
        event = {"candidate": " ".join(words), "sdpMLineIndex": rng.choice([0, 1, 7, None])}
        raw = json.dumps({"type": "custom", "data": {"type": "candidate", "data": event}})
        await room_.handle_media_event("fuzz", raw)
    assert internal_errors(outbox) == []
    assert [p.peer_id for p in room_.peers] == ["fuzz"]
