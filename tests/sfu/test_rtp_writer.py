"""RtpWriter's bytes, read back with aiortc's own RTP parser."""

from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from rooms.sfu.rtp_writer import ABS_SEND_TIME_URI, MID_URI, RtpWriter


class Route:
    def __init__(self, *, up: bool = True) -> None:
        self.up = up
        self.sent: list[bytes] = []

    def send(self, packet: bytes) -> bool:
        if self.up:
            self.sent.append(packet)
        return self.up


class Report:
    """Records what the writer counts for the sender reports."""

    def __init__(self) -> None:
        self.counted: list[tuple[int, int, int]] = []

    def count(self, ntp_time: int, rtp_timestamp: int, size: int) -> None:
        self.counted.append((ntp_time, rtp_timestamp, size))


def parse(data: bytes, ids: dict[str, int]) -> RtpPacket:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[RTCRtpHeaderExtensionParameters(id=i, uri=u) for u, i in ids.items()]
        )
    )
    return RtpPacket.parse(data, extensions)


@pytest.mark.parametrize(
    "ids",
    [
        {MID_URI: 4, ABS_SEND_TIME_URI: 2},  # Chrome's ids: one-byte form
        {MID_URI: 9},
        {ABS_SEND_TIME_URI: 3},
        {MID_URI: 15, ABS_SEND_TIME_URI: 2},  # an id above 14: two-byte form
        {},
    ],
)
def test_header_fields_and_extensions_parse_back(ids: dict[str, int]) -> None:
    route, report = Route(), Report()
    writer = RtpWriter(
        ssrc=0xDEADBEEF, payload_type=96, extension_ids=ids, mid="3", route=route, report=report
    )
    writer.write(65535, 4_000_000_000, True, b"payload", 0, b"\x12\x34\x56", 77)
    packet = parse(route.sent[0], ids)
    assert (packet.ssrc, packet.payload_type, packet.sequence_number) == (0xDEADBEEF, 96, 65535)
    assert (packet.timestamp, packet.marker, packet.payload) == (4_000_000_000, 1, b"payload")
    assert packet.extensions.mid == ("3" if MID_URI in ids else None)
    expected_abs = 0x123456 if ABS_SEND_TIME_URI in ids else None
    assert packet.extensions.abs_send_time == expected_abs


def test_padding_is_appended_and_flagged() -> None:
    route = Route()
    writer = RtpWriter(
        ssrc=1,
        payload_type=111,
        extension_ids={},
        mid=None,
        route=route,
        report=Report(),
    )
    writer.write(1, 2, False, b"", 32, b"\x00\x00\x00", 1)
    packet = parse(route.sent[0], {})
    assert (packet.payload, packet.padding_size, packet.marker) == (b"", 32, 0)


def test_writes_are_counted_for_the_sender_reports_and_resends_are_not() -> None:
    route, report = Route(), Report()
    writer = RtpWriter(
        ssrc=1, payload_type=96, extension_ids={}, mid=None, route=route, report=report
    )
    writer.write(10, 1000, True, b"abcd", 0, b"\x00\x00\x01", 555)
    writer.write(11, 4000, True, b"ef", 0, b"\x00\x00\x02", 666)
    assert writer.resend(10, 1000, True, b"abcd", 0, b"\x00\x00\x01")
    assert len(route.sent) == 3
    assert report.counted == [(555, 1000, 4), (666, 4000, 2)]
    assert (writer.last_sequence, writer.last_timestamp) == (11, 4000)


def test_nothing_is_counted_while_the_route_is_down() -> None:
    report = Report()
    writer = RtpWriter(
        ssrc=1, payload_type=96, extension_ids={}, mid=None, route=Route(up=False), report=report
    )
    writer.write(10, 1000, True, b"abcd", 0, b"\x00\x00\x01", 555)
    assert report.counted == [] and writer.last_sequence is None
