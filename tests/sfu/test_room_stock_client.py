"""What a stock membrane-webrtc-js client needs from the Room: TURN in offerData, a name."""

from __future__ import annotations

import json
from typing import Any

from rooms.limits import Limits
from rooms.roomtypes import PeerInfo
from rooms.sfu.config import MediaConfig
from rooms.sfu.room import Room
from tests.sfu.fakes import FakeMediaFactory, FakeOutbox

RENEGOTIATE = json.dumps({"type": "custom", "data": {"type": "renegotiateTracks"}})
TURN = MediaConfig(
    turn_urls=("turn:192.0.2.9:3478?transport=udp", "turn:192.0.2.9:3478?transport=tcp"),
    turn_secret="s",
)


def connect(metadata: dict[str, Any]) -> str:
    return json.dumps({"type": "connect", "data": {"metadata": metadata}})


def offer_datas(outbox: FakeOutbox, peer_id: str) -> list[dict[str, Any]]:
    return [
        e["data"]["data"]
        for e in outbox.for_peer(peer_id, "custom")
        if e["data"]["type"] == "offerData"
    ]


def make_room(config: MediaConfig = TURN) -> tuple[Room, FakeOutbox]:
    outbox = FakeOutbox()
    room = Room(
        "r1", outbox=outbox, media=config, limits=Limits(), media_factory=FakeMediaFactory()
    )
    outbox.room = room
    return room, outbox


async def test_offer_data_carries_turn_servers_with_credentials_for_that_peer() -> None:
    room, outbox = make_room()
    for pid in ("a", "b"):
        await room.add_peer(PeerInfo(pid, f"chan.{pid}", ""), max_participants=4)
        await room.handle_media_event(pid, connect({}))
        await room.handle_media_event(pid, RENEGOTIATE)
    for pid in ("a", "b"):
        offer_data = offer_datas(outbox, pid)[0]
        servers = offer_data["integratedTurnServers"]
        assert [(s["serverAddr"], s["serverPort"], s["transport"]) for s in servers] == [
            ("192.0.2.9", 3478, "udp"),
            ("192.0.2.9", 3478, "tcp"),
        ]
        assert all(s["username"].endswith(f":{pid}") for s in servers)


async def test_offer_data_without_turn_configured_lists_none() -> None:
    room, outbox = make_room(MediaConfig())
    await room.add_peer(PeerInfo("a", "chan.a", "Ann"), max_participants=4)
    await room.handle_media_event("a", connect({}))
    await room.handle_media_event("a", RENEGOTIATE)
    assert offer_datas(outbox, "a")[0]["integratedTurnServers"] == []


async def test_a_peer_that_joined_without_a_name_takes_it_from_connect_or_is_a_guest() -> None:
    room, outbox = make_room()
    await room.add_peer(PeerInfo("a", "chan.a", ""), max_participants=4)
    await room.handle_media_event("a", connect({}))
    await room.add_peer(PeerInfo("b", "chan.b", ""), max_participants=4)
    await room.handle_media_event("b", connect({"displayName": " Bob ", "emoji": "x"}))
    await room.add_peer(PeerInfo("c", "chan.c", ""), max_participants=4)
    await room.handle_media_event("c", connect({"displayName": "x" * 65}))
    assert outbox.for_peer("c", "error")  # past display_name_chars: refused, still unconnected
    await room.handle_media_event("c", connect({}))
    assert outbox.for_peer("c", "error")  # past display_name_chars: refused, still unconnected
    await room.handle_media_event("c", connect({}))
    added = {e["data"]["id"]: e["data"]["metadata"] for e in outbox.for_peer("a", "endpointAdded")}
    assert added == {
        "b": {"displayName": "Bob", "emoji": "x"},
        "c": {"displayName": "Guest"},
    }
    others = outbox.for_peer("c", "connected")[0]["data"]["otherEndpoints"]
    assert [o["metadata"]["displayName"] for o in others] == ["Guest", "Bob"]
