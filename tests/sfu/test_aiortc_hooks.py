"""What the SFU gets from aiortc's private state, checked by behaviour on the pinned versions.

Each test names the rooms.sfu.aiortc_hooks function it guards, so an aiortc upgrade that
breaks a hook fails the test named for it. Two in-process peers (tests/sfu/peer_pair.py):
the client offers, the worker answers and applies the hook. This module: the receive
and send sides; test_aiortc_hooks_ice.py: negotiation and ICE.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable

import aioice
import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpTransceiver, clock, rtcrtpreceiver
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RtcpPsfbPacket,
    RtpPacket,
    unpack_remb_fci,
)

from rooms.sfu import aiortc_hooks, vp8
from rooms.sfu.aiortc_hooks.receive import _ReceiveTap
from rooms.sfu.forwarding import ntp_time
from tests.sfu import encoded_receiver
from tests.sfu.peer_pair import (
    FiniteEncodedVideo,
    TinyCamera,
    UnreadTrack,
    answer,
    connected,
    eventually,
    offer,
    sdp_ssrc,
    stats_of,
)

pytestmark = pytest.mark.media

Peers = tuple[RTCPeerConnection, RTCPeerConnection]


def test_pinned_versions() -> None:
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


# --- receive side -------------------------------------------------------------------


async def test_tap_receiver_gets_every_rtp_packet_and_its_decoder_none(peers: Peers) -> None:
    client, worker = peers
    track = FiniteEncodedVideo(count=20)
    client_sender = client.addTransceiver(track, direction="sendonly").sender
    await offer(client, worker)
    receiver = worker.getTransceivers()[0].receiver
    tapped: list[RtpPacket] = []
    aiortc_hooks.tap_receiver(receiver, tapped.append, label="test")
    # A frame reaching the receiver's decoder thread would come out of its track.
    encoded_receiver.install()
    encoded_receiver.mark_passthrough(receiver.track)
    await answer(client, worker)

    async def all_sent_arrived() -> bool:
        [outbound] = await stats_of(client_sender, "outbound-rtp")
        return len(track.sent) == 20 and outbound.packetsSent == len(tapped)

    deadline = time.monotonic() + 15
    while not await all_sent_arrived():
        assert time.monotonic() < deadline, f"{len(tapped)} packets tapped"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    assert await all_sent_arrived()  # and nothing more
    sequences = [p.sequence_number for p in tapped]
    assert sequences == [(sequences[0] + i) & 0xFFFF for i in range(len(tapped))]
    frames: dict[int, bytes] = {}
    for packet in tapped:
        payload = packet.payload
        frames[packet.timestamp] = (
            frames.get(packet.timestamp, b"") + payload[vp8.descriptor_size(payload) :]
        )
    assert list(frames.values()) == track.sent
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(receiver.track.recv(), 0.5)


def test_tap_receiver_drops_a_packet_the_forwarder_cannot_handle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tap runs inside aiortc's socket loop: an exception would end the peer's media."""
    calls = []

    def failing(packet: object) -> None:
        calls.append(packet)
        raise ValueError("bad packet")

    tap = _ReceiveTap(failing, "room r peer p track t")  # type: ignore[arg-type]
    assert tap.add("first") == (False, None)  # type: ignore[arg-type]
    assert tap.add("second") == (False, None)  # type: ignore[arg-type]
    assert calls == ["first", "second"]
    assert [r.message for r in caplog.records].count(
        "room r peer p track t: forwarding a packet failed"
    ) == 1


def without_abs_send_time(sdp: str) -> str:
    # No abs-send-time, no REMB from the worker: a REMB moving the bitrate would make
    # aiortc's encoder restart with a key frame of its own (feasibility pitfall 10).
    return "".join(line for line in sdp.splitlines(True) if "abs-send-time" not in line)


async def test_send_pli_makes_the_remote_sender_encode_a_keyframe(peers: Peers) -> None:
    client, worker = peers
    client.addTransceiver(TinyCamera(), direction="sendonly")
    await offer(client, worker, edit=without_abs_send_time)
    receiver = worker.getTransceivers()[0].receiver
    keyframes: list[int] = []  # packets seen before each key frame
    packets: list[RtpPacket] = []

    def on_packet(packet: RtpPacket) -> None:
        if vp8.starts_keyframe(packet.payload):
            keyframes.append(len(packets))
        packets.append(packet)

    aiortc_hooks.tap_receiver(receiver, on_packet, label="test")
    await answer(client, worker)
    await eventually(lambda: len(keyframes) == 1 and len(packets) > keyframes[0] + 30)
    assert len(keyframes) == 1  # aiortc's VP8 encoder: a key frame every 3000 frames
    await aiortc_hooks.send_pli(receiver, packets[0].ssrc)
    await eventually(lambda: len(keyframes) == 2, timeout=5)


# --- send side ----------------------------------------------------------------------


class TakenOver:
    """The worker's sender for the client's recvonly m-line, taken over as an Outlet does."""

    def __init__(self, client: RTCPeerConnection, worker: RTCPeerConnection) -> None:
        self.client, self.worker = client, worker
        self.track = UnreadTrack()
        self.started: list[RTCRtpSendParameters] = []
        self.nacked: list[int] = []
        self.keyframe_requests = 0
        self.client_side: RTCRtpTransceiver = client.addTransceiver("video", direction="recvonly")

    @property
    def worker_side(self) -> RTCRtpTransceiver:
        return self.worker.getTransceivers()[0]

    async def offer(self) -> None:
        """The client's offer; then the worker's sender is taken over."""
        await offer(self.client, self.worker)
        sender = self.worker_side.sender
        sender.replaceTrack(self.track)
        self.worker_side.direction = "sendonly"
        aiortc_hooks.take_over_sender(
            sender,
            on_start=self.started.append,
            retransmit=self.nacked.append,
            request_keyframe=self._keyframe,
        )

    async def connect(self) -> None:
        await answer(self.client, self.worker)
        await connected(self.client, self.worker)
        await eventually(lambda: bool(self.started))

    @property
    def ssrc(self) -> int:
        """The worker sender's SSRC as its answer signals it."""
        return sdp_ssrc(self.worker.localDescription.sdp)

    def _keyframe(self) -> None:
        self.keyframe_requests += 1


@pytest.fixture
async def taken_over(peers: Peers) -> TakenOver:
    leg = TakenOver(*peers)
    await leg.offer()
    return leg


async def client_stats(leg: TakenOver, kind: str, until: Callable[[list], bool]) -> list:
    """The client receiver's stats of one type, once ``until`` holds for them."""
    deadline = time.monotonic() + 10
    while not until(found := await stats_of(leg.client_side.receiver, kind)):
        assert time.monotonic() < deadline, f"{kind}: {found}"
        await asyncio.sleep(0.1)
    return found


async def test_take_over_sender_starts_once_and_aiortc_sends_no_rtp(taken_over: TakenOver) -> None:
    await taken_over.connect()
    [parameters] = taken_over.started
    assert parameters.codecs[0].mimeType.lower() == "video/vp8"
    # aiortc's RTCP goes on: a sender report arrives, saying nothing was sent ...
    [report] = await client_stats(taken_over, "remote-outbound-rtp", bool)
    assert (report.ssrc, report.packetsSent) == (taken_over.ssrc, 0)
    # ... and aiortc's own RTP loop never read the track nor sent anything.
    assert taken_over.track.reads == 0
    assert await stats_of(taken_over.client_side.receiver, "inbound-rtp") == []
    assert taken_over.started == [parameters]


async def test_take_over_sender_passes_nacks_to_retransmit(taken_over: TakenOver) -> None:
    await taken_over.connect()
    route = aiortc_hooks.DtlsRoute(taken_over.worker_side.sender.transport)
    payload_type = taken_over.started[0].codecs[0].payloadType
    gaps: set[int] = set()
    sequence = 1000
    deadline = time.monotonic() + 10
    while not taken_over.nacked:
        assert time.monotonic() < deadline
        for step in (0, 2):  # sequence + 1 is never sent
            packet = RtpPacket(
                payload_type=payload_type,
                sequence_number=sequence + step,
                timestamp=sequence * 90,
                ssrc=taken_over.ssrc,
                payload=b"\x10\x00",
            )
            route.send(packet.serialize())
        gaps.add(sequence + 1)
        sequence += 3
        await asyncio.sleep(0.05)
    assert set(taken_over.nacked) <= gaps


async def send_rtcp(transceiver: RTCRtpTransceiver, packet: RtcpPsfbPacket) -> None:
    # A stimulus only: aiortc has no public way to send a FIR (nor a PLI on demand).
    await transceiver.receiver.transport._send_rtp(bytes(packet))


async def test_take_over_sender_passes_pli_and_fir_to_request_keyframe(
    taken_over: TakenOver,
) -> None:
    await taken_over.connect()
    ssrc = taken_over.ssrc
    pli = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=ssrc)
    await send_rtcp(taken_over.client_side, pli)
    await eventually(lambda: taken_over.keyframe_requests == 1)
    fci = struct.pack("!IB3x", ssrc, 1)  # RFC 5104 section 4.3.1.1: SSRC, sequence number
    fir = RtcpPsfbPacket(fmt=RTCP_PSFB_FIR, ssrc=1, media_ssrc=ssrc, fci=fci)
    await send_rtcp(taken_over.client_side, fir)
    await eventually(lambda: taken_over.keyframe_requests == 2)


async def test_sender_ssrc_is_the_ssrc_the_sender_signals_and_reports(
    taken_over: TakenOver,
) -> None:
    await taken_over.connect()
    sender = taken_over.worker_side.sender
    assert aiortc_hooks.sender_ssrc(sender) == taken_over.ssrc
    [outbound] = await stats_of(sender, "outbound-rtp")
    assert outbound.ssrc == taken_over.ssrc


async def test_sender_report_counter_counts_go_into_the_sender_reports(
    taken_over: TakenOver,
) -> None:
    await taken_over.connect()
    sender = taken_over.worker_side.sender
    counter = aiortc_hooks.SenderReportCounter(sender)
    now = ntp_time(time.time())
    for i in range(3):
        counter.count(now + i, 1000 + 3000 * i, 100 + i)
    [report] = await client_stats(
        taken_over, "remote-outbound-rtp", lambda found: found and found[0].packetsSent == 3
    )
    assert report.bytesSent == 303
    assert report.remoteTimestamp == clock.datetime_from_ntp(now + 2)
    [outbound] = await stats_of(sender, "outbound-rtp")
    assert (outbound.packetsSent, outbound.bytesSent) == (3, 303)


async def test_dtls_route_delivers_a_packet_the_other_sides_tap_receives(
    taken_over: TakenOver,
) -> None:
    route = aiortc_hooks.DtlsRoute(taken_over.worker_side.sender.transport)
    assert not route.send(b"\x80" + bytes(11))  # DTLS not up yet
    received: list[RtpPacket] = []
    aiortc_hooks.tap_receiver(taken_over.client_side.receiver, received.append, label="client")
    await taken_over.connect()
    payload_type = taken_over.started[0].codecs[0].payloadType
    sent: dict[int, bytes] = {}
    deadline = time.monotonic() + 10
    while not received:
        # Until the client's receiver has started, what arrives is dropped.
        assert time.monotonic() < deadline
        sequence = 4000 + len(sent)
        sent[sequence] = f"\x10forwarded {sequence}".encode()
        packet = RtpPacket(
            payload_type=payload_type,
            sequence_number=sequence,
            timestamp=90 * sequence,
            ssrc=taken_over.ssrc,
            payload=sent[sequence],
        )
        assert route.send(packet.serialize())
        await asyncio.sleep(0.05)
    first = received[0]
    assert (first.ssrc, first.payload_type) == (taken_over.ssrc, payload_type)
    assert first.payload == sent[first.sequence_number]


# --- the test clients' encoded receive side (tests/sfu/encoded_receiver.py) ----------


async def test_encoded_receiver_yields_the_frames_a_sender_packed(peers: Peers) -> None:
    client, worker = peers
    track = FiniteEncodedVideo(count=6)
    client.addTransceiver(track, direction="sendonly")
    await offer(client, worker)
    remote = worker.getTransceivers()[0].receiver.track
    encoded_receiver.install()
    encoded_receiver.mark_passthrough(remote)
    await answer(client, worker)
    # The jitter buffer hands a frame on when the next one begins: the last one stays.
    received = [bytes(await asyncio.wait_for(remote.recv(), 10)) for _ in range(5)]
    assert received == track.sent[:5]


def test_encoded_receiver_install_replaces_the_decoder_worker_once() -> None:
    encoded_receiver.install()
    encoded_receiver.install()
    assert rtcrtpreceiver.decoder_worker is encoded_receiver._dispatching_worker


async def test_lazy_bitrate_estimators_build_on_the_first_packet_and_still_send_remb(
    peers: Peers,
) -> None:
    client, worker = peers
    aiortc_hooks.lazy_bitrate_estimators()
    assert rtcrtpreceiver.RemoteBitrateEstimator is not RemoteBitrateEstimator
    sender = client.addTransceiver(TinyCamera(), direction="sendonly").sender
    rembs: list[int] = []
    handle = sender._handle_rtcp_packet

    async def recording(packet: object) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            rembs.append(unpack_remb_fci(packet.fci)[0])
        await handle(packet)

    sender._handle_rtcp_packet = recording  # type: ignore[method-assign]
    await offer(client, worker)
    receiver = worker.getTransceivers()[0].receiver
    estimator = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
    assert not isinstance(estimator, RemoteBitrateEstimator)  # nothing built before a packet
    aiortc_hooks.tap_receiver(receiver, lambda packet: None, label="test")
    await answer(client, worker)
    # The worker's REMB still reaches the publisher once video flows.
    await eventually(lambda: bool(rembs), timeout=10)
