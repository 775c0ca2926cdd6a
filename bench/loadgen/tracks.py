"""The synthetic camera and microphone: looped pre-encoded frames, paced in real time.

``recv()`` returns ``av.Packet`` objects, so aiortc's sender takes its ``pack()`` path
(re-packetize only, no encoder). A keyframe request (PLI/FIR) from the SFU makes the next
frame the next keyframe of the clip, as a browser's encoder would answer it.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time

import av
from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from bench.loadgen.stats import SendStats
from bench.media import Clip, stamp

# aiortc's Vp8Encoder packs at most 1300 bytes per payload, 4 of them descriptor.
_VP8_CHUNK = 1296
# Behind schedule by more than this (an overloaded loop): restart the clock, don't burst.
_MAX_LAG_S = 0.5


class ClipTrack(MediaStreamTrack):
    """A track that replays ``clip`` with a stamp appended to every frame."""

    def __init__(self, clip: Clip) -> None:
        super().__init__()
        self.kind = clip.kind
        self._clip = clip
        self._keyframes = clip.keyframe_indexes
        self._time_base = fractions.Fraction(1, clip.clock_rate)
        self._ticks = round(clip.frame_seconds * clip.clock_rate)
        self._index = 0
        self._sent = 0
        self._start: float | None = None
        self._want_keyframe = False
        self.stats = SendStats(clip.kind)

    def request_keyframe(self) -> None:
        """Make the next frame a keyframe (called on PLI/FIR)."""
        self._want_keyframe = True

    def attach(self, sender: RTCRtpSender) -> None:
        """Route the sender's keyframe requests to this track instead of its (unused) encoder."""
        sender._send_keyframe = self.request_keyframe  # type: ignore[method-assign]

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        loop_now = time.monotonic()
        if self._start is None:
            self._start = loop_now
        due = self._start + self._sent * self._clip.frame_seconds
        if due - loop_now < -_MAX_LAG_S:
            self._start = loop_now - self._sent * self._clip.frame_seconds
        elif due > loop_now:
            await asyncio.sleep(due - loop_now)
        if self._want_keyframe and self._keyframes:
            self._want_keyframe = False
            after = [i for i in self._keyframes if i >= self._index]
            self._index = after[0] if after else self._keyframes[0]
            self.stats.forced_keyframes += 1
        frame = self._clip.frames[self._index]
        self._index = (self._index + 1) % len(self._clip.frames)
        packet = av.Packet(stamp(frame.data, self._sent))
        packet.pts = self._sent * self._ticks
        packet.time_base = self._time_base
        self._sent += 1
        self.stats.frames += 1
        self.stats.keyframes += frame.keyframe and self.kind == "video"
        self.stats.packets += math.ceil(packet.size / _VP8_CHUNK) if self.kind == "video" else 1
        return packet
