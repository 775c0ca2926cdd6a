"""Hostile peers against a Room with real aiortc peers: nothing one sends reaches another's
media, and the worker sends ICE checks only to allowed addresses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aioice import stun

from rooms.sfu.config import MediaConfig
from rooms.sfu.endpoint import Endpoint
from rooms.sfu.forwarding import Publication
from tests.sfu.client import EncodedVideoTrack, MediaClient
from tests.sfu.conftest import Harness, settle
from tests.sfu.test_fuzz_inputs import browser_like_offer, sdp_offer
from tests.sfu.test_room_signaling import connect, peer

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}


def server_connection(harness: Harness, peer_id: str) -> Any:
    media = harness.room._members[peer_id].media
    assert isinstance(media, Endpoint)
    return media.pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection


def errors(client: MediaClient) -> list[str]:
    return [e["data"]["message"] for e in client.events if e["type"] == "error"]


async def test_a_peer_cannot_take_over_another_peers_track_id(harness: Harness) -> None:
    """The reported attack: bob publishes alice's track id, then removes it. Carol's m-line
    for alice's track must stay active and forwarding."""
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    carol = await harness.client("carol")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(carol.received.get(track_id, [])) >= 5)
    await bob.publish(EncodedVideoTrack(), CAMERA)  # bob has a connection of his own
    await settle(lambda: bob.answers >= 1)

    impostor = EncodedVideoTrack()
    bob.own[track_id] = (impostor, CAMERA)  # alice's id, as bob's track
    bob._add_sender(track_id, impostor)
    await bob.send("renegotiateTracks", custom=True)
    await settle(lambda: bool(errors(bob)))
    assert errors(bob) == [f"track id '{track_id}' is not yours (must start with 'bob:')"]
    await bob.unpublish(track_id)
    await settle(lambda: bob.answers >= 2)

    count = len(carol.received[track_id])
    await settle(lambda: len(carol.received[track_id]) >= count + 10)
    carol_media = harness.room._members["carol"].media
    assert isinstance(carol_media, Endpoint)
    [slot] = [s for s in carol_media._slots if s.track_id == track_id]
    assert slot.source is not None and slot.endpoint_id == "alice"
    assert slot.transceiver is not None and slot.transceiver.direction == "sendonly"
    assert track_id in carol.remote_tracks


async def test_subscriptions_are_keyed_by_endpoint_and_track() -> None:
    endpoint = Endpoint("r", "carol", config=MediaConfig(), on_failure=lambda: None)

    async def no_pli() -> None:
        pass

    mine = Publication("x:1", "video", no_pli, endpoint_id="alice")
    same_id = Publication("x:1", "video", no_pli, endpoint_id="bob")
    try:
        endpoint.subscribe(mine)
        endpoint.subscribe(same_id)
        endpoint.unsubscribe("bob", "x:1")
        assert [(s.endpoint_id, s.source) for s in endpoint._slots] == [("alice", mine)]
    finally:
        await endpoint.close()


class Listener(asyncio.DatagramProtocol):
    """Records the STUN Binding requests sent to one UDP address."""

    def __init__(self) -> None:
        self.requests = 0
        self.responses = 0
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = stun.parse_message(data)
        if message.message_class == stun.Class.REQUEST:
            self.requests += 1
        else:
            self.responses += 1


async def listen(host: str) -> tuple[Listener, int]:
    loop = asyncio.get_running_loop()
    transport, listener = await loop.create_datagram_endpoint(Listener, local_addr=(host, 0))
    return listener, transport.get_extra_info("sockname")[1]


def candidate(host: str, port: int) -> dict[str, Any]:
    return {"candidate": f"candidate:9 1 udp 2122260223 {host} {port} typ host", "sdpMLineIndex": 0}


# The offer comes from a connection closed at once: nothing answers the worker's checks
# and nothing checks it, so its check list keeps running and checks what is trickled.
@pytest.mark.parametrize(
    "media_config",
    [MediaConfig(denied_remote_networks=("192.0.2.0/24", "fd00::/8", "127.0.0.2/32"))],
    ids=["client-denied"],
)
async def test_trickled_candidates_reach_only_allowed_addresses(harness: Harness) -> None:
    room = harness.room
    await room.add_peer(peer("alice"), max_participants=4)
    await room.handle_media_event("alice", connect("alice"))
    sdp, _ = await browser_like_offer()
    sdp = sdp.replace("a=end-of-candidates\r\n", "")  # as browsers offer: more may come
    await room.handle_media_event("alice", sdp_offer(sdp, {"0": "alice:video"}))
    assert room._members["alice"].media is not None
    denied, denied_port = await listen("127.0.0.2")
    allowed, allowed_port = await listen("127.0.0.3")
    try:
        for host, port in (("127.0.0.2", denied_port), ("127.0.0.3", allowed_port)):
            event = {"type": "candidate", "data": candidate(host, port)}
            await room.handle_media_event("alice", json.dumps({"type": "custom", "data": event}))
        await settle(lambda: allowed.requests >= 1)
        await asyncio.sleep(1.0)
        assert denied.requests == 0
    finally:
        denied.transport.close()
        allowed.transport.close()


async def send_check(harness: Harness, listener: Listener, host: str, port: int) -> None:
    """An authenticated check to the worker from ``listener``'s address, as a peer-reflexive
    candidate would send it: aioice answers and starts a triggered check back."""
    conn = server_connection(harness, "alice")
    server = next(c for c in conn.local_candidates if c.host == "192.0.2.2")
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = f"{conn.local_username}:{conn.remote_username}"
    request.attributes["PRIORITY"] = 1853824767
    request.attributes["ICE-CONTROLLING"] = 1
    request.add_message_integrity(conn.local_password.encode())
    request.add_fingerprint()
    listener.transport.sendto(bytes(request), (server.host, server.port))


async def test_peer_reflexive_pairs_to_denied_addresses_are_never_checked(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: harness.room._members["alice"].media.pc.connectionState == "connected")
    denied, denied_port = await listen("127.0.0.2")
    allowed, allowed_port = await listen("192.0.2.2")
    try:
        await send_check(harness, denied, "127.0.0.2", denied_port)
        await send_check(harness, allowed, "192.0.2.2", allowed_port)
        await settle(lambda: allowed.requests >= 1 and denied.responses >= 1)
        await asyncio.sleep(1.0)
        assert denied.requests == 0  # answered (that is STUN), never checked
    finally:
        denied.transport.close()
        allowed.transport.close()
