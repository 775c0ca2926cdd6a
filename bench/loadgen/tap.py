"""The subscriber side without a decoder: count RTP packets where aiortc hands them over.

``install()`` replaces two aiortc 1.16 internals in the load generator's process only:
``RTCRtpReceiver._handle_rtp_packet`` (after SRTP and RTP parsing) becomes a counter that
reassembles nothing, and ``decoder_worker`` returns at once, so no decoder thread stays
alive. Per packet that leaves SRTP unprotect, the RTP parse and a few byte comparisons.
Like a browser, a subscriber sends a PLI (at most once a second) for frames it receives
before its first keyframe: delta frames, never the keyframe itself.
"""

from __future__ import annotations

import time
from typing import Any

import aiortc.rtcrtpreceiver as receiver_module
from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from bench.loadgen.stats import StreamStats
from bench.media import STAMP_SIZE, read_stamp
from rooms.sfu.vp8 import descriptor_size

_PLI_INTERVAL_S = 1.0


class ReceiveTap:
    """Counts what one receiver gets into a StreamStats (set once the mid is mapped)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.stream: StreamStats | None = None
        self._frame_ts: int | None = None
        self._frame_key = False
        self._prev_data = b""
        self._last_pli = 0.0

    async def on_rtp(self, receiver: RTCRtpReceiver, packet: RtpPacket) -> None:
        stream = self.stream
        if stream is None:
            return
        payload = packet.payload
        stream.on_packet(packet.sequence_number, len(payload))
        now_ns = time.monotonic_ns()
        now = now_ns / 1e9
        if self.kind == "audio":
            stream.on_frame(now, False, read_stamp(payload[-STAMP_SIZE:]), now_ns)
            return
        if not payload:
            return
        descriptor = descriptor_size(payload)
        if packet.timestamp != self._frame_ts:
            self._frame_ts = packet.timestamp
            # S=1 and PID=0 start a frame; the VP8 header's P bit is 0 for keyframes.
            starts = payload[0] & 0x10 and not payload[0] & 0x0F
            self._frame_key = bool(starts) and not payload[descriptor] & 0x01
            self._prev_data = b""
        data = payload[descriptor:]
        if packet.marker:
            tail = data if len(data) >= STAMP_SIZE else self._prev_data + data
            stream.on_frame(now, self._frame_key, read_stamp(tail[-STAMP_SIZE:]), now_ns)
            self._frame_ts = None
        else:
            self._prev_data = data[-STAMP_SIZE:]
        # Like a browser's decoder, ask only when a frame that cannot be decoded arrives: never
        # for the keyframe being received, which the SFU (gating deltas) sends first. A PLI there
        # reaches the publisher just after its keyframe and spends the SFU's per-publisher limit,
        # so the next subscriber's request waits for it.
        if (
            stream.first_keyframe_at is None
            and not self._frame_key
            and now - self._last_pli > _PLI_INTERVAL_S
        ):
            self._last_pli = now
            await receiver._send_rtcp_pli(packet.ssrc)


async def _tapped_handle_rtp_packet(
    self: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int
) -> None:
    tap: ReceiveTap | None = getattr(self, "_bench_tap", None)
    if tap is not None:
        await tap.on_rtp(self, packet)


def _no_decoder(*args: Any) -> None:
    """Stands in for aiortc's decoder thread body: nothing is ever queued to it."""


def install() -> None:
    """Patch aiortc in this process so that receivers count instead of decoding."""
    RTCRtpReceiver._handle_rtp_packet = _tapped_handle_rtp_packet  # type: ignore[method-assign]
    receiver_module.decoder_worker = _no_decoder  # type: ignore[assignment]


def tap_receiver(receiver: RTCRtpReceiver, kind: str) -> ReceiveTap:
    """The receiver's tap, created on first use."""
    tap: ReceiveTap | None = getattr(receiver, "_bench_tap", None)
    if tap is None:
        tap = ReceiveTap(kind)
        receiver._bench_tap = tap  # type: ignore[attr-defined]
    return tap


def use_host_addresses(addresses: list[str]) -> None:
    """Gather ICE candidates only on ``addresses`` (aioice skips 127.0.0.1 by default)."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)
