"""Where the forwarder reaches into aiortc 1.16 / aioice 0.13 private state, and only here.

- Receive: a receiver's jitter buffer is replaced by a tap that hands every RTP packet
  (after SRTP, parsing, RTX unwrapping, NACK and REMB bookkeeping) to the forwarder and
  reassembles nothing, so no frame ever reaches the receiver's decoder thread, which
  stays idle until the receiver stops.
- Setup: aiortc builds a REMB bitrate estimator (1,000 rate buckets) for every video
  receiver, also for the m-lines the worker only sends on; ``lazy_bitrate_estimators``
  makes it wait for the first packet, so a new m-line costs ~0.1 ms instead of ~1 ms.
- Send: a subscriber's RTCRtpSender keeps its RTCP loop (sender reports, receiving PLI,
  FIR and NACK) but its per-packet RTP loop is replaced by the forwarder writing bytes
  through ``DtlsRoute``.

Every private name used here is checked by tests/sfu/test_aiortc_hooks.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import RtpPacket

logger = logging.getLogger(__name__)

PacketHandler = Callable[[RtpPacket], None]


class _ReceiveTap:
    """Stands in for a receiver's ``JitterBuffer``: ``add`` forwards and never yields a frame."""

    def __init__(self, on_packet: PacketHandler, label: str) -> None:
        self._on_packet = on_packet
        self._label = label
        self._failed = False

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        # The receiver awaits nothing between here and its socket loop, which an exception
        # would end for every track of the peer: one bad packet must only be dropped.
        try:
            self._on_packet(packet)
        except Exception:
            if not self._failed:
                self._failed = True
                logger.exception("%s: forwarding a packet failed", self._label)
        return False, None  # (no PLI wanted, no frame to decode)


def tap_receiver(receiver: RTCRtpReceiver, on_packet: PacketHandler, *, label: str) -> None:
    """Send every RTP packet ``receiver`` accepts to ``on_packet``, on the event loop.

    Call before the receiver gets packets (right after ``setRemoteDescription``).
    """
    receiver._RTCRtpReceiver__jitter_buffer = _ReceiveTap(on_packet, label)  # type: ignore[attr-defined]


def take_over_sender(
    sender: RTCRtpSender,
    *,
    on_start: Callable[[RTCRtpSendParameters], None],
    retransmit: Callable[[int], None],
    request_keyframe: Callable[[], None],
) -> None:
    """Let the forwarder write ``sender``'s RTP; aiortc keeps its RTCP.

    ``on_start`` gets the negotiated parameters once the sender starts (DTLS is up);
    ``retransmit`` gets each sequence number a NACK names; ``request_keyframe`` runs
    on PLI and FIR.
    """
    start = sender.send
    state: Any = sender

    async def send(parameters: RTCRtpSendParameters) -> None:
        first = not state._RTCRtpSender__started
        await start(parameters)
        if first:
            on_start(parameters)

    async def run_rtp(codec: RTCRtpCodecParameters) -> None:
        # sender.stop() waits for the first event, cancels this task, waits for the second.
        state._RTCRtpSender__rtp_started.set()
        try:
            await asyncio.Event().wait()
        finally:
            state._RTCRtpSender__rtp_exited.set()

    async def on_nack(sequence_number: int) -> None:
        retransmit(sequence_number)

    state.send = send
    state._run_rtp = run_rtp
    state._retransmit = on_nack
    state._send_keyframe = request_keyframe


def extension_ids(parameters: RTCRtpSendParameters) -> dict[str, int]:
    """The negotiated RTP header extension ids of a sender, by URI."""
    return {ext.uri: ext.id for ext in parameters.headerExtensions}


class DtlsRoute:
    """Protects RTP with a DTLS transport's SRTP session and sends it on the selected pair.

    This is what ``RTCDtlsTransport._send_rtp`` and aioice's ``Connection.send`` do,
    without their three awaits per packet. The pair is looked up per packet: an ICE
    restart or a renomination replaces it.
    """

    __slots__ = ("_dtls", "_ice")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls: Any = dtls
        self._ice: Any = dtls.transport._connection

    def send(self, packet: bytes) -> bool:
        dtls = self._dtls
        if dtls._state is not DtlsState.CONNECTED:
            return False
        pair = self._ice._nominated.get(1)
        if pair is None:
            return False
        try:
            protected = dtls._tx_srtp.protect(packet)
        except pylibsrtp.Error:
            # e.g. a retransmission older than the session's replay window (1024 packets)
            return False
        pair.protocol.transport.sendto(protected, pair.remote_addr)
        return True


class _LazyBitrateEstimator:
    """Stands in for aiortc's ``RemoteBitrateEstimator``; builds it on the first packet."""

    __slots__ = ("_real",)

    def __init__(self) -> None:
        self._real: RemoteBitrateEstimator | None = None

    def add(self, **kwargs: Any) -> Any:
        if self._real is None:
            self._real = RemoteBitrateEstimator()
        return self._real.add(**kwargs)


def lazy_bitrate_estimators() -> None:
    """Receivers created from now on build their REMB estimator on their first video packet.

    An offer with 63 new m-lines otherwise builds 63,000 objects on the event loop (and
    leaves them to the garbage collector), whether or not a packet ever arrives.
    """
    rtcrtpreceiver.RemoteBitrateEstimator = _LazyBitrateEstimator  # type: ignore[misc, assignment]
