"""MediaConfig networking: UDP port range, advertised address, host addresses, ICE restart."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket

import pytest
from aioice import stun

from rooms.sfu import network, sdp_text
from rooms.sfu.config import MediaConfig
from tests.sfu.client import EncodedVideoTrack
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}
# A random 20-port window in the dynamic range, so parallel runs rarely collide.
LOW = random.randrange(42000, 48000, 20)
RANGE = (LOW, LOW + 19)


def answer_candidates(client_events: list[dict]) -> list[list[str]]:
    answer = next(
        e["data"]["data"]
        for e in client_events
        if e["type"] == "custom" and e["data"]["type"] == "sdpAnswer"
    )
    return [line.split() for line in sdp_text.candidate_lines(answer["sdp"])]


@pytest.mark.parametrize(
    "media_config", [MediaConfig(port_range=RANGE, external_ip="203.0.113.7")], ids=["nat"]
)
async def test_answer_advertises_external_ip_on_ports_in_range(harness: Harness) -> None:
    alice = await harness.client("alice")
    await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: alice.answers >= 1)
    candidates = answer_candidates(alice.events)
    assert candidates
    v4 = [c for c in candidates if ":" not in c[4]]
    assert v4 and all(c[4] == "203.0.113.7" for c in v4)
    assert all(RANGE[0] <= int(c[5]) <= RANGE[1] for c in candidates)
    sent = [
        e["data"]["data"]["candidate"]
        for e in alice.events
        if e["type"] == "custom" and e["data"]["type"] == "candidate"
    ]
    assert sent and all("192.0.2.2" not in c for c in sent)


@pytest.mark.parametrize("media_config", [MediaConfig(port_range=RANGE)], ids=["range"])
async def test_media_flows_through_ports_in_range(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 5)
    for client in (alice, bob):
        assert all(RANGE[0] <= int(c[5]) <= RANGE[1] for c in answer_candidates(client.events))


@pytest.mark.parametrize(
    "media_config", [MediaConfig(host_addresses=("127.0.0.1",))], ids=["loopback"]
)
async def test_host_addresses_limit_gathering_and_may_name_loopback(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 5)
    assert {c[4] for c in answer_candidates(alice.events)} == {"127.0.0.1"}


async def test_port_range_exhaustion_is_reported() -> None:
    port = random.randrange(48000, 49000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("192.0.2.2", port))
        with pytest.raises(network.PortRangeExhausted):
            await network.bind_in_range(
                network.Connection(ice_controlling=False), "192.0.2.2", (port, port)
            )


async def test_client_ice_restart_is_followed(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    alice.restart_ice_on_renegotiation = True
    camera_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(camera_id, [])) >= 5)
    assert alice.pc is not None
    conn = alice.pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection
    old_ufrag = conn.local_username
    screen_id = await alice.publish(EncodedVideoTrack(), {"type": "screensharing", "active": True})
    await settle(lambda: len(bob.received.get(screen_id, [])) >= 5)
    assert conn.local_username != old_ufrag
    # A consent check with the client's new credentials is accepted by the worker ...
    pair = conn._nominated[1]
    request = conn.build_request(pair, nominate=False)
    response, _ = await pair.protocol.request(
        request, pair.remote_addr, integrity_key=conn.remote_password.encode(), retransmissions=2
    )
    assert response.message_class == stun.Class.RESPONSE
    # ... and the worker signs its own checks with them.
    endpoint = harness.room._members["alice"].media
    server_conn = endpoint.pc.getTransceivers()[
        0
    ].receiver.transport.transport.iceGatherer._connection
    assert (server_conn.remote_username, server_conn.remote_password) == (
        conn.local_username,
        conn.local_password,
    )


def test_worker_ice_servers_are_never_implicit() -> None:
    assert network.worker_ice_servers(MediaConfig(), "p") == []
    config = dataclasses.replace(
        MediaConfig(),
        turn_urls=("turn:192.0.2.50:3478",),
        turn_secret="s",
        stun_urls=("stun:192.0.2.50:3478",),
    )
    servers = network.worker_ice_servers(config, "p")
    assert servers[0].urls == ["stun:192.0.2.50:3478"]
    assert servers[1].username.endswith(":p") and servers[1].credential


class FakeStunServer(asyncio.DatagramProtocol):
    """Answers Binding requests as if the worker sat behind a NAT at 203.0.113.5."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.requests = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = stun.parse_message(data)
        self.requests += 1
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = ("203.0.113.5", addr[1])
        self.transport.sendto(bytes(response), addr)  # type: ignore[attr-defined]


async def test_stun_server_gives_reflexive_candidates_with_the_port_range() -> None:
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        FakeStunServer, local_addr=("192.0.2.2", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    config = MediaConfig(port_range=RANGE, stun_urls=(f"stun:192.0.2.2:{port}",))
    harness = Harness(config)
    try:
        alice = await harness.client("alice")
        await alice.publish(EncodedVideoTrack(), CAMERA)
        await settle(lambda: alice.answers >= 1)
        candidates = answer_candidates(alice.events)
        srflx = [c for c in candidates if c[7] == "srflx"]
        assert srflx and all(c[4] == "203.0.113.5" for c in srflx)
        assert all(RANGE[0] <= int(c[5]) <= RANGE[1] for c in candidates)
        assert server.requests >= 1
    finally:
        await harness.close()
        transport.close()
