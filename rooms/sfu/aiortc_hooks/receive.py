"""Receive side: a publisher receiver's packets go to the forwarder, PLIs go to the publisher.

Also setup: aiortc builds a REMB bitrate estimator (1,000 rate buckets) for every video
receiver, also for the m-lines the worker only sends on; ``lazy_bitrate_estimators`` makes
it wait for the first packet, so a new m-line costs ~0.1 ms instead of ~1 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver, rtcrtpreceiver
from aiortc.rate import RemoteBitrateEstimator
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

    The packets come after SRTP, parsing, RTX unwrapping, NACK and REMB bookkeeping; no
    frame is reassembled, so the receiver's decoder thread stays idle until it stops.
    Call before the receiver gets packets (right after ``setRemoteDescription``).
    """
    receiver._RTCRtpReceiver__jitter_buffer = _ReceiveTap(on_packet, label)  # type: ignore[attr-defined]


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send an RTCP PLI for ``media_ssrc`` from ``receiver`` to the remote sender.

    Nothing is sent before the receiver has its RTCP SSRC (set when the peer connection
    starts its transports).
    """
    await receiver._send_rtcp_pli(media_ssrc)


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
