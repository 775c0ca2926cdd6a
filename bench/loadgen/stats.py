"""Per-stream counters of a synthetic subscriber, and their aggregation.

A stream is one remote track as one subscriber receives it. Counters are cumulative;
a measurement window is the difference of two snapshots.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# A video freeze as in WebRTC's freezeCount: an inter-frame gap longer than
# max(3 x the mean frame interval, mean + 150 ms). With the 25 fps clip: 190 ms.
FREEZE_FLOOR_S = 0.150


@dataclass
class StreamStats:
    """What one subscriber saw of one remote track."""

    kind: str  # "audio" | "video"
    publisher: str  # the publishing bot's name
    frame_seconds: float
    subscribed_at: float = 0.0  # monotonic seconds when the subscriber asked for it
    packets: int = 0
    bytes: int = 0
    frames: int = 0
    keyframes: int = 0
    rtp_lost: int = 0  # gaps in this leg's RTP sequence numbers
    frames_missed: int = 0  # gaps in the publisher's frame numbers (from the stamp)
    freezes: int = 0
    first_packet_at: float | None = None
    first_keyframe_at: float | None = None
    last_frame_at: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    _last_seq: int | None = None
    _last_frame_number: int | None = None

    def on_packet(self, seq: int, size: int) -> None:
        """Count one RTP packet with sequence number ``seq``."""
        self.packets += 1
        self.bytes += size
        if self.first_packet_at is None:
            self.first_packet_at = time.monotonic()
        if self._last_seq is not None:
            gap = (seq - self._last_seq) & 0xFFFF
            if 1 < gap < 0x8000:  # forward jump: the packets in between never came
                self.rtp_lost += gap - 1
            if gap >= 0x8000:  # late or duplicate packet: keep the newest
                return
        self._last_seq = seq

    def on_frame(
        self, now: float, keyframe: bool, stamp: tuple[int, int] | None, now_ns: int
    ) -> None:
        """Count one complete frame that arrived at ``now`` (monotonic seconds)."""
        self.frames += 1
        if keyframe:
            self.keyframes += 1
            if self.first_keyframe_at is None:
                self.first_keyframe_at = now
        if self.kind == "video" and self.last_frame_at is not None:
            gap = now - self.last_frame_at
            if gap > max(3 * self.frame_seconds, self.frame_seconds + FREEZE_FLOOR_S):
                self.freezes += 1
        self.last_frame_at = now
        if stamp is not None:
            number, sent_ns = stamp
            self.latencies_ms.append((now_ns - sent_ns) / 1e6)
            if self._last_frame_number is not None:
                jump = (number - self._last_frame_number) & 0xFFFFFFFF
                if 1 < jump < 0x80000000:
                    self.frames_missed += jump - 1
            self._last_frame_number = number

    def snapshot(self) -> dict[str, float | int]:
        return {
            "packets": self.packets,
            "bytes": self.bytes,
            "frames": self.frames,
            "keyframes": self.keyframes,
            "rtp_lost": self.rtp_lost,
            "frames_missed": self.frames_missed,
            "freezes": self.freezes,
            "latency_count": len(self.latencies_ms),
        }


@dataclass
class SendStats:
    """What one publisher sent on one track."""

    kind: str
    frames: int = 0
    packets: int = 0
    keyframes: int = 0
    forced_keyframes: int = 0

    def snapshot(self) -> dict[str, float | int]:
        return {
            "frames": self.frames,
            "packets": self.packets,
            "keyframes": self.keyframes,
            "forced_keyframes": self.forced_keyframes,
        }


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def delta(after: dict[str, float | int], before: dict[str, float | int]) -> dict[str, float]:
    """Counter differences between two snapshots."""
    return {key: float(after[key]) - float(before.get(key, 0)) for key in after}
