"""The negotiation and ICE hooks, checked by behaviour on the pinned aiortc/aioice.

As in test_aiortc_hooks.py, each test names the rooms.sfu.aiortc_hooks function it guards.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aioice
import pytest
from aioice import Candidate, stun
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol
from aiortc import RTCPeerConnection

from rooms.sfu import aiortc_hooks
from tests.sfu.peer_pair import answer, connected, media_sections, offer

pytestmark = pytest.mark.media

Peers = tuple[RTCPeerConnection, RTCPeerConnection]


def codec_list(codecs: list[Any]) -> list[tuple[str, int]]:
    return [(c.mimeType.lower(), c.payloadType) for c in codecs]


# --- negotiation --------------------------------------------------------------------


async def test_transceiver_codecs_are_what_set_remote_description_negotiated(
    peers: Peers,
) -> None:
    client, worker = peers
    local = client.addTransceiver("video", direction="recvonly")
    assert aiortc_hooks.transceiver_codecs(local) == []
    await offer(client, worker)
    [transceiver] = worker.getTransceivers()
    offered = media_sections(client.localDescription.sdp)[0].rtp.codecs
    negotiated = codec_list(aiortc_hooks.transceiver_codecs(transceiver))
    assert negotiated == codec_list(offered)
    assert {"video/vp8", "video/h264", "video/rtx"} == {mime for mime, _ in negotiated}


async def test_keep_codecs_leaves_only_those_in_the_answer(peers: Peers) -> None:
    client, worker = peers
    client.addTransceiver("video", direction="recvonly")
    await offer(client, worker)
    [transceiver] = worker.getTransceivers()
    codecs = aiortc_hooks.transceiver_codecs(transceiver)
    [h264] = [c for c in codecs if c.parameters.get("profile-level-id") == "42e01f"]
    [rtx] = [c for c in codecs if c.parameters.get("apt") == h264.payloadType]
    aiortc_hooks.keep_codecs(transceiver, [h264, rtx])
    assert codec_list(aiortc_hooks.transceiver_codecs(transceiver)) == codec_list([h264, rtx])
    await answer(client, worker)
    [media] = media_sections(worker.localDescription.sdp)
    assert media.fmt == [h264.payloadType, rtx.payloadType]
    assert codec_list(media.rtp.codecs) == codec_list([h264, rtx])


async def test_offered_direction_is_the_remote_offers_direction_seen_from_here(
    peers: Peers,
) -> None:
    client, worker = peers
    for kind, direction in [
        ("video", "sendonly"),
        ("video", "recvonly"),
        ("audio", "sendrecv"),
        ("audio", "inactive"),
    ]:
        local = client.addTransceiver(kind, direction=direction)
    assert aiortc_hooks.offered_direction(local) is None
    await offer(client, worker)
    assert [aiortc_hooks.offered_direction(t) for t in worker.getTransceivers()] == [
        "recvonly",
        "sendonly",
        "sendrecv",
        "inactive",
    ]


# --- ICE ----------------------------------------------------------------------------


async def test_ice_connection_is_the_connection_aiortc_gathers_and_connects_with(
    peers: Peers,
) -> None:
    client, worker = peers
    client.addTransceiver("video", direction="recvonly")
    client.addTransceiver("audio", direction="recvonly")
    await offer(client, worker)
    [connection] = aiortc_hooks.ice_connections(worker)  # max-bundle: one transport
    assert isinstance(connection, aioice.Connection)
    assert all(aiortc_hooks.ice_connection(t) is connection for t in worker.getTransceivers())
    await answer(client, worker)
    media = media_sections(worker.localDescription.sdp)[0]
    assert (media.ice.usernameFragment, media.ice.password) == (
        connection.local_username,
        connection.local_password,
    )
    assert {(c.ip, c.port) for c in media.ice_candidates} == {
        (c.host, c.port) for c in connection.local_candidates
    }
    await connected(client, worker)
    assert (
        connection.remote_username
        == media_sections(client.localDescription.sdp)[0].ice.usernameFragment
    )


class LoopbackGathering:
    """A replacement gathering step: one host socket on 127.0.0.1, which aioice never binds."""

    def __init__(self, connection: aioice.Connection) -> None:
        self.connection = connection
        self.calls: list[tuple[int, list[str]]] = []
        self.transports: list[asyncio.DatagramTransport] = []

    async def __call__(
        self, *, component: int, addresses: list[str], timeout: int = 5
    ) -> list[Candidate]:
        self.calls.append((component, addresses))
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: StunProtocol(self.connection), local_addr=("127.0.0.1", 0)
        )
        host, port = transport.get_extra_info("sockname")[:2]
        protocol.local_candidate = Candidate(
            foundation=candidate_foundation("host", "udp", host),
            component=component,
            transport="udp",
            priority=candidate_priority(component, "host"),
            host=host,
            port=port,
            type="host",
        )
        aiortc_hooks.add_host_protocols(self.connection, [protocol])
        self.transports.append(transport)
        return [protocol.local_candidate]


async def loopback_worker(
    client: RTCPeerConnection, worker: RTCPeerConnection
) -> LoopbackGathering:
    client.addTransceiver("video", direction="recvonly")
    await offer(client, worker)
    [connection] = aiortc_hooks.ice_connections(worker)
    assert not aiortc_hooks.gathering_replaced(connection)
    gathering = LoopbackGathering(connection)
    aiortc_hooks.replace_gathering(connection, gathering)
    assert aiortc_hooks.gathering_replaced(connection)
    await answer(client, worker)
    return gathering


async def test_replace_gathering_supplies_the_local_candidates(peers: Peers) -> None:
    gathering = await loopback_worker(*peers)
    [(component, addresses)] = gathering.calls
    assert component == 1 and addresses  # aioice's own host addresses, not used here
    port = gathering.transports[0].get_extra_info("sockname")[1]
    [media] = media_sections(peers[1].localDescription.sdp)
    assert [(c.ip, c.port, c.type) for c in media.ice_candidates] == [("127.0.0.1", port, "host")]


async def test_add_host_protocols_makes_aioice_connect_and_close_through_them(
    peers: Peers,
) -> None:
    client, worker = peers
    gathering = await loopback_worker(client, worker)
    await connected(client, worker)  # through the loopback socket: the worker has no other
    await worker.close()
    assert gathering.transports[0].is_closing()


async def test_stock_gathering_is_aioices_own_step_where_it_was_replaced(peers: Peers) -> None:
    client, worker = peers
    client.addTransceiver("video", direction="recvonly")
    await offer(client, worker)
    [connection] = aiortc_hooks.ice_connections(worker)
    seen: list[str] = []

    async def gather(*, component: int, addresses: list[str], timeout: int = 5) -> list[Candidate]:
        seen.extend(addresses)
        return await aiortc_hooks.stock_gathering(
            connection, component=component, addresses=addresses, timeout=timeout
        )

    aiortc_hooks.replace_gathering(connection, gather)
    await answer(client, worker)
    [media] = media_sections(worker.localDescription.sdp)
    assert seen and {c.ip for c in media.ice_candidates} == set(seen)
    await connected(client, worker)


class StunProbe(asyncio.DatagramProtocol):
    """A restarted client's ICE agent, as far as one socket and hand-made checks go."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, stun.Message]] = asyncio.Queue()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.messages.put_nowait((data, stun.parse_message(data)))

    async def check(self, target: tuple[str, int], username: str, key: str) -> stun.Message:
        """Send a Binding request as the controlling agent; its response."""
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        request.attributes["USERNAME"] = username
        request.attributes["PRIORITY"] = candidate_priority(1, "prflx")
        request.attributes["ICE-CONTROLLING"] = int.from_bytes(os.urandom(8), "big")
        request.add_message_integrity(key.encode())
        request.add_fingerprint()
        self.transport.sendto(bytes(request), target)
        return await self.next(stun.Class.RESPONSE, stun.Class.ERROR, tid=request.transaction_id)

    async def next(self, *classes: stun.Class, tid: bytes | None = None) -> stun.Message:
        while True:
            _, message = await asyncio.wait_for(self.messages.get(), 5)
            if message.message_class in classes and tid in (None, message.transaction_id):
                return message


async def test_set_remote_ice_credentials_makes_aioice_accept_and_sign_checks_with_them(
    peers: Peers,
) -> None:
    client, worker = peers
    client.addTransceiver("video", direction="recvonly")
    await offer(client, worker)
    [connection] = aiortc_hooks.ice_connections(worker)
    assert aiortc_hooks.remote_ice_ufrag(connection) is None  # ICE not started yet
    await answer(client, worker)
    await connected(client, worker)
    old_ufrag = media_sections(client.localDescription.sdp)[0].ice.usernameFragment
    assert aiortc_hooks.remote_ice_ufrag(connection) == old_ufrag
    media = media_sections(worker.localDescription.sdp)[0]
    ufrag, pwd = media.ice.usernameFragment, media.ice.password
    target = next((c.ip, c.port) for c in media.ice_candidates if ":" not in c.ip)

    new_ufrag, new_pwd = "rest4rt", "restarted-password-0123456789"
    aiortc_hooks.set_remote_ice_credentials(connection, new_ufrag, new_pwd)
    assert aiortc_hooks.remote_ice_ufrag(connection) == new_ufrag
    loop = asyncio.get_running_loop()
    transport, probe = await loop.create_datagram_endpoint(StunProbe, local_addr=(target[0], 0))
    try:
        # A check signed as the restarted client is accepted, one with the old ufrag not ...
        accepted = await probe.check(target, f"{ufrag}:{new_ufrag}", pwd)
        assert accepted.message_class == stun.Class.RESPONSE
        refused = await probe.check(target, f"{ufrag}:{old_ufrag}", pwd)
        assert (refused.message_class, refused.attributes["ERROR-CODE"][0]) == (
            stun.Class.ERROR,
            401,
        )
        # ... and the worker's triggered check back is signed with the new credentials.
        triggered = await probe.next(stun.Class.REQUEST)
        assert triggered.attributes["USERNAME"] == f"{new_ufrag}:{ufrag}"
        assert triggered.check_message_integrity(new_pwd.encode())
    finally:
        transport.close()
