"""Leaving, failing and closing with real aiortc peers: nothing is left behind."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable

import pytest
from aioice import ice as aioice_ice
from aiortc import RTCConfiguration, RTCPeerConnection

from rooms.messages import RemovalReason
from rooms.sfu import endpoint as endpoint_module
from rooms.sfu.endpoint import Endpoint
from tests.sfu.client import EncodedVideoTrack, MediaClient
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}


def live_endpoints() -> list[Endpoint]:
    gc.collect()
    return [
        o for o in gc.get_objects() if isinstance(o, Endpoint) and o.pc.connectionState != "closed"
    ]


async def busy_room(harness: Harness) -> str:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await bob.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 5)
    await settle(lambda: len(alice.received) == 1 and len(next(iter(alice.received.values()))) >= 5)
    return track_id


async def test_leave_tells_the_others_and_closes_the_peer_connection(harness: Harness) -> None:
    track_id = await busy_room(harness)
    alice, bob = harness.clients
    await alice.leave()
    tail = [t for t in bob.types() if t in ("tracksRemoved", "endpointRemoved")]
    assert tail == ["tracksRemoved", "endpointRemoved"]
    assert track_id not in bob.remote_tracks
    assert harness.outbox.left == [("alice", RemovalReason.LEFT)]
    assert [p.peer_id for p in harness.room.peers] == ["bob"]
    assert len(live_endpoints()) == 1


async def test_closed_connection_removes_the_peer_for_everyone(harness: Harness) -> None:
    await busy_room(harness)
    alice, bob = harness.clients
    loop = asyncio.get_running_loop()
    started = loop.time()
    await alice.close()  # the client side vanishes: DTLS close_notify, then silence
    await settle(lambda: harness.outbox.left == [("alice", RemovalReason.MEDIA_FAILED)], 5)
    assert loop.time() - started < 5
    await settle(lambda: "endpointRemoved" in bob.types())
    assert len(live_endpoints()) == 1


async def test_close_leaves_no_connection_task_or_thread(
    harness: Harness, baseline_threads: Callable[[], set[threading.Thread]]
) -> None:
    await busy_room(harness)
    assert baseline_threads(), "decoder threads run while media flows"
    await harness.close()
    assert sorted(harness.outbox.left) == [
        ("alice", RemovalReason.ROOM_CLOSED),
        ("bob", RemovalReason.ROOM_CLOSED),
    ]
    await settle(lambda: not baseline_threads(), 10)
    assert live_endpoints() == []
    await asyncio.sleep(0.2)  # aiortc's own fire-and-forget __connect tasks finish
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert pending == []


async def test_peer_whose_ice_never_connects_is_removed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoint_module, "CONNECT_TIMEOUT", 1.0)
    client = MediaClient(harness.room, "ghost")
    harness.outbox.clients["ghost"] = client
    await harness.room.add_peer(client.info, max_participants=4)
    await client.send("connect", {"metadata": {}})
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(EncodedVideoTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    mid = pc.getTransceivers()[0].mid
    await pc.close()  # nobody will answer the worker's connectivity checks
    await client.send(
        "sdpOffer",
        {"sdpOffer": {"type": "offer", "sdp": offer}, "midToTrackId": {mid: "ghost:1"}},
        custom=True,
    )
    await settle(lambda: harness.outbox.left == [("ghost", RemovalReason.MEDIA_FAILED)], 10)
    assert live_endpoints() == []


class SlowMdns:
    """An mDNS responder that never answers within the test, as on most server networks."""

    async def resolve(self, hostname: str) -> None:
        await asyncio.sleep(3)


async def test_mdns_candidates_do_not_slow_the_connection(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_protocol(subscriber: object) -> SlowMdns:
        return SlowMdns()

    monkeypatch.setattr(aioice_ice, "get_or_create_mdns_protocol", slow_protocol)
    alice = await harness.client("alice")
    alice.offer_without_end_of_candidates = True
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: alice.answers >= 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    mdns = "candidate:1 1 udp 2122260223 0b8a4f5e-1111-2222-3333-444455556666.local 50000 typ host"
    await alice.send("candidate", {"candidate": mdns, "sdpMLineIndex": 0}, custom=True)
    assert loop.time() - started < 0.5  # no multicast resolution is attempted
    await settle(lambda: len(bob.received.get(track_id, [])) >= 5)
    endpoint = harness.room._members["alice"].media
    remote = endpoint.pc.getTransceivers()[0].receiver.transport.transport.getRemoteCandidates()
    assert all(not c.ip.endswith(".local") for c in remote)
