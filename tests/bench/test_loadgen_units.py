"""The load generator's own arithmetic: stamps, stream counters."""

from __future__ import annotations

import pytest

from bench.cli import fit_slope
from bench.loadgen.stats import StreamStats, percentile
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
