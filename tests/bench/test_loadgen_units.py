"""The load generator's own arithmetic: stamps, stream counters, PLIs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiortc.rtp import RtpPacket

from bench.cli import fit_slope
from bench.loadgen.bot import Bot, BotMedia
from bench.loadgen.run import _room_failures
from bench.loadgen.stats import StreamStats, percentile
from bench.loadgen.tap import ReceiveTap
from bench.media import STAMP_SIZE, read_stamp, stamp

pytestmark = pytest.mark.bench


def test_a_stamp_round_trips_from_the_frame_tail() -> None:
    data = stamp(b"\x10\x02\x9d\x01payload", 7, now_ns=123_456_789)
    assert read_stamp(data[-STAMP_SIZE:]) == (7, 123_456_789)


def test_a_frame_without_a_stamp_reads_as_none() -> None:
    assert read_stamp(b"x" * STAMP_SIZE) is None
    assert read_stamp(b"short") is None


def test_stream_counts_sequence_gaps_as_lost_and_ignores_late_packets() -> None:
    stream = StreamStats(kind="video", publisher="a", frame_seconds=0.04)
    for seq in (65534, 65535, 2, 1, 3):  # wraps, skips 0, then 1 arrives late
        stream.on_packet(seq, 100)
    assert stream.packets == 5
    assert stream.rtp_lost == 2


def test_stream_counts_freezes_missed_frames_and_latency() -> None:
    stream = StreamStats(kind="video", publisher="a", frame_seconds=0.04)
    stream.on_frame(1.00, True, (0, 0), 5_000_000)
    stream.on_frame(1.04, False, (1, 40_000_000), 1_046_000_000 - 1_000_000_000 + 40_000_000)
    stream.on_frame(1.50, False, (4, 0), 10_000_000)  # 460 ms gap; frames 2 and 3 missing
    assert stream.freezes == 1
    assert stream.frames_missed == 2
    assert stream.keyframes == 1 and stream.first_keyframe_at == 1.00
    assert stream.latencies_ms[0] == pytest.approx(5.0)


def test_percentile_uses_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_slope_of_a_line() -> None:
    assert fit_slope([1, 2, 3], [2, 4, 6]) == pytest.approx(2.0)
    assert fit_slope([1, 1], [2, 3]) is None


class _Receiver:
    """Records the PLIs a ReceiveTap sends."""

    def __init__(self) -> None:
        self.plis: list[int] = []

    async def _send_rtcp_pli(self, media_ssrc: int) -> None:
        self.plis.append(media_ssrc)


def _vp8_packets(seq: int, timestamp: int, keyframe: bool, count: int) -> list[RtpPacket]:
    """One VP8 frame in ``count`` packets: descriptor S=1 on the first, stamp on the last."""
    body = stamp(bytes([0x00 if keyframe else 0x01]) + b"\x00" * 40, 0)
    packets = []
    for index in range(count):
        payload = bytes([0x10 if index == 0 else 0x00]) + body
        packets.append(
            RtpPacket(
                payload_type=96,
                sequence_number=seq + index,
                timestamp=timestamp,
                ssrc=1234,
                marker=index == count - 1,
                payload=payload,
            )
        )
    return packets


async def _feed(tap: ReceiveTap, receiver: Any, packets: list[RtpPacket]) -> None:
    for packet in packets:
        await tap.on_rtp(receiver, packet)


async def test_a_subscriber_sends_no_pli_for_the_keyframe_it_is_receiving() -> None:
    tap, receiver = ReceiveTap("video"), _Receiver()
    tap.stream = StreamStats(kind="video", publisher="a", frame_seconds=0.04)
    await _feed(tap, receiver, _vp8_packets(1, 3000, keyframe=True, count=3))
    await _feed(tap, receiver, _vp8_packets(4, 6000, keyframe=False, count=2))
    assert receiver.plis == []
    assert tap.stream.first_keyframe_at is not None


async def test_a_subscriber_sends_a_pli_for_deltas_before_its_first_keyframe() -> None:
    tap, receiver = ReceiveTap("video"), _Receiver()
    tap.stream = StreamStats(kind="video", publisher="a", frame_seconds=0.04)
    await _feed(tap, receiver, _vp8_packets(1, 3000, keyframe=False, count=2))
    await _feed(tap, receiver, _vp8_packets(3, 6000, keyframe=False, count=2))
    assert receiver.plis == [1234]  # once: at most one a second


def test_a_room_bot_that_hears_nothing_any_more_is_reported_lost() -> None:
    hearing, silent = Bot("bot-0-0", BotMedia(None, None)), Bot("bot-0-1", BotMedia(None, None))
    for bot, ago in ((hearing, 0.1), (silent, 5.0)):
        stream = StreamStats(kind="audio", publisher="x", frame_seconds=0.02)
        stream.last_frame_at = time.monotonic() - ago
        bot.streams["x:audio"] = stream
    assert _room_failures([hearing]) == ""
    assert _room_failures([hearing, silent]) == "room bots lost (bot-0-1: no remote frame for 5 s)"
    assert hearing.error is None and silent.error == "no remote frame for 5 s"
