"""One subscriber sender's outgoing RTP, written as bytes without aiortc's per-packet chain.

aiortc's sender builds an ``RtpPacket`` object per packet and awaits four coroutines to
send it (~23 us per packet measured in docs/benchmarks.md). Here the header is packed from
a per-sender template with ``struct``, the packet is protected with the sender's SRTP
session and handed to the selected ICE pair's socket: no object, no await.

The header carries the two extensions aiortc's sender writes, when negotiated: ``mid``
(constant per sender) and ``abs-send-time`` (3 bytes, per packet).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Protocol

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

_FIXED_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
_ONE_BYTE_PROFILE = 0xBEDE  # RFC 8285 section 4.2
_TWO_BYTE_PROFILE = 0x1000  # RFC 8285 section 4.3


class PacketRoute(Protocol):
    """Where protected packets go: SRTP plus the peer's selected ICE pair."""

    def send(self, packet: bytes) -> bool:
        """Protect and send one RTP packet; False when the peer is not reachable now."""


def _extension_block(elements: list[tuple[int, bytes]]) -> tuple[bytes, int]:
    """The RFC 8285 header extension block and the offset of each element's data.

    Returns (block, offset of the first element's data within the block).
    """
    one_byte = all(1 <= ext_id <= 14 and 1 <= len(data) <= 16 for ext_id, data in elements)
    body = b""
    first_offset = 0
    for index, (ext_id, data) in enumerate(elements):
        head = bytes([(ext_id << 4) | (len(data) - 1)]) if one_byte else bytes([ext_id, len(data)])
        if index == 0:
            first_offset = 4 + len(head)
        body += head + data
    body += bytes(-len(body) % 4)
    profile = _ONE_BYTE_PROFILE if one_byte else _TWO_BYTE_PROFILE
    return struct.pack("!HH", profile, len(body) // 4) + body, first_offset


class SenderReport(Protocol):
    """Counts what the sender reports say was sent (``aiortc_hooks.SenderReportCounter``)."""

    def count(self, ntp_time: int, rtp_timestamp: int, size: int) -> None:
        """One packet of ``size`` payload bytes sent at ``ntp_time`` with ``rtp_timestamp``."""


class RtpWriter:
    """Packs, protects and sends one sender's RTP packets; counts them for its sender reports.

    ``report`` is told of every packet ``write`` sends (retransmissions are not counted).
    """

    __slots__ = (
        "_count",
        "_ext_after",
        "_ext_before",
        "_payload_type",
        "_route",
        "_ssrc",
        "_with_abs_send_time",
        "_x_bit",
        "last_sequence",
        "last_timestamp",
    )

    def __init__(
        self,
        *,
        ssrc: int,
        payload_type: int,
        extension_ids: Mapping[str, int],
        mid: str | None,
        route: PacketRoute,
        report: SenderReport,
    ) -> None:
        self._ssrc = ssrc
        self._payload_type = payload_type
        self._route = route
        self._count = report.count
        self.last_sequence: int | None = None
        self.last_timestamp = 0
        elements: list[tuple[int, bytes]] = []
        abs_id = extension_ids.get(ABS_SEND_TIME_URI)
        if abs_id is not None:
            elements.append((abs_id, bytes(3)))  # placeholder: split off below
        mid_id = extension_ids.get(MID_URI)
        if mid_id is not None and mid:
            elements.append((mid_id, mid.encode()))
        self._with_abs_send_time = abs_id is not None
        if not elements:
            self._x_bit = 0
            self._ext_before = self._ext_after = b""
            return
        self._x_bit = 0x10
        block, offset = _extension_block(elements)
        if abs_id is None:
            self._ext_before, self._ext_after = block, b""
        else:
            # The 3 abs-send-time bytes are written per packet between these two parts.
            self._ext_before, self._ext_after = block[:offset], block[offset + 3 :]

    def write(
        self,
        sequence: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
        padding: int,
        abs_send_time: bytes,
        ntp_time: int,
    ) -> None:
        """Send one packet and count it for the sender reports."""
        if not self.resend(sequence, timestamp, marker, payload, padding, abs_send_time):
            return
        self.last_sequence = sequence
        self.last_timestamp = timestamp
        self._count(ntp_time, timestamp, len(payload))

    def resend(
        self,
        sequence: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
        padding: int,
        abs_send_time: bytes,
    ) -> bool:
        """Send one packet without counting it (a retransmission); False if not sent."""
        head = _FIXED_HEADER.pack(
            0x80 | (0x20 if padding else 0) | self._x_bit,
            (0x80 if marker else 0) | self._payload_type,
            sequence,
            timestamp,
            self._ssrc,
        )
        if self._with_abs_send_time:
            packet = head + self._ext_before + abs_send_time + self._ext_after + payload
        else:
            packet = head + self._ext_before + payload
        if padding:
            packet += bytes(padding - 1) + bytes((padding,))
        return self._route.send(packet)
