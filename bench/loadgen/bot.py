"""What every synthetic participant has, whatever server it speaks to."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from aiortc import RTCRtpTransceiver

from bench.loadgen.stats import StreamStats
from bench.loadgen.tap import tap_receiver
from bench.loadgen.tracks import ClipTrack
from bench.media import Clip


@dataclass(frozen=True)
class BotMedia:
    """The clips a bot publishes; None for a kind it does not publish."""

    video: Clip | None
    audio: Clip | None


class Bot:
    """A participant: publishes clips, counts every remote track it receives."""

    def __init__(self, name: str, media: BotMedia) -> None:
        self.name = name
        self.media = media
        self.tracks: list[ClipTrack] = []
        self.streams: dict[str, StreamStats] = {}  # by remote track id
        self.join_started: float = 0.0
        self.joined_at: float | None = None
        self.error: str | None = None

    def new_tracks(self, prefix: str) -> dict[str, ClipTrack]:
        """One ClipTrack per published kind, keyed by a fresh track id ``<prefix>:<uuid>``."""
        tracks: dict[str, ClipTrack] = {}
        for clip in (self.media.audio, self.media.video):
            if clip is not None:
                track = ClipTrack(clip)
                self.tracks.append(track)
                tracks[f"{prefix}:{uuid.uuid4()}"] = track
        return tracks

    def bind(self, transceiver: RTCRtpTransceiver, track_id: str, publisher: str) -> None:
        """Count what ``transceiver`` receives as remote track ``track_id``."""
        kind = transceiver.kind
        stream = self.streams.get(track_id)
        if stream is None:
            seconds = (
                self.media.video.frame_seconds if kind == "video" and self.media.video else 0.02
            )
            stream = StreamStats(
                kind=kind,
                publisher=publisher,
                frame_seconds=seconds,
                subscribed_at=time.monotonic(),
            )
            self.streams[track_id] = stream
        tap_receiver(transceiver.receiver, kind).stream = stream

    def first_remote_keyframe(self) -> float | None:
        """Seconds from the join request to the first complete remote keyframe."""
        times = [s.first_keyframe_at for s in self.streams.values() if s.first_keyframe_at]
        return min(times) - self.join_started if times else None

    def first_remote_video_packet(self) -> float | None:
        """Seconds from the join request to the first RTP packet of any remote video track."""
        times = [
            s.first_packet_at
            for s in self.streams.values()
            if s.kind == "video" and s.first_packet_at is not None
        ]
        return min(times) - self.join_started if times else None

    def all_remote_keyframes(self, expected: int) -> float | None:
        """Seconds from the join request until ``expected`` remote video tracks showed a keyframe."""
        times = sorted(
            s.first_keyframe_at
            for s in self.streams.values()
            if s.kind == "video" and s.first_keyframe_at
        )
        if expected <= 0 or len(times) < expected:
            return None
        return times[expected - 1] - self.join_started

    async def start(self) -> None:
        """Join and publish; returns once the first negotiation is done."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError
