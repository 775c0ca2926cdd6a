"""Pre-encoded media for synthetic participants, and the stamp each frame carries.

The load generator never encodes or decodes at run time: a VP8 clip and an Opus clip are
encoded once with PyAV (libvpx, libopus), cached on disk, and replayed in a loop. Every sent
frame gets a 16-byte trailer (magic, frame number, send time) appended to its encoded data.
A passthrough SFU or Janus forwards the payload bytes unchanged, so a subscriber reads the
trailer from the last packet of a frame and gets the end-to-end latency and the exact frames
it missed. A transcoding SFU re-encodes and so drops the trailer; latency is then unknown.
"""

from __future__ import annotations

import fractions
import hashlib
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

STAMP_MAGIC = b"VRB1"
STAMP = struct.Struct("!4sIQ")  # magic, frame number, send time (CLOCK_MONOTONIC ns)
STAMP_SIZE = STAMP.size  # 16 bytes

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000


@dataclass(frozen=True)
class EncodedFrame:
    """One encoded frame of a clip."""

    data: bytes
    keyframe: bool


@dataclass(frozen=True)
class Clip:
    """A looped, pre-encoded stream: frames at a fixed rate."""

    kind: str  # "video" | "audio"
    frames: tuple[EncodedFrame, ...]
    frame_seconds: float
    clock_rate: int

    @property
    def keyframe_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, frame in enumerate(self.frames) if frame.keyframe)

    @property
    def bitrate(self) -> float:
        """Average bits per second of the clip."""
        total = sum(len(frame.data) for frame in self.frames)
        return 8 * total / (len(self.frames) * self.frame_seconds)


def stamp(data: bytes, frame_number: int, now_ns: int | None = None) -> bytes:
    """``data`` with the stamp trailer appended."""
    sent = time.monotonic_ns() if now_ns is None else now_ns
    return data + STAMP.pack(STAMP_MAGIC, frame_number & 0xFFFFFFFF, sent)


def read_stamp(tail: bytes) -> tuple[int, int] | None:
    """(frame number, send time ns) from the last 16 bytes of a frame, or None."""
    if len(tail) < STAMP_SIZE:
        return None
    magic, number, sent = STAMP.unpack_from(tail, len(tail) - STAMP_SIZE)
    if magic != STAMP_MAGIC:
        return None
    return number, sent


def cache_dir() -> Path:
    """Where encoded clips are kept between runs (VIDEOROOM_BENCH_CACHE overrides)."""
    path = Path(
        os.environ.get("VIDEOROOM_BENCH_CACHE", Path(tempfile.gettempdir()) / "videoroom-bench")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(path: Path, clip: Clip) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(struct.pack("!dI", clip.frame_seconds, clip.clock_rate))
        for frame in clip.frames:
            out.write(struct.pack("!?I", frame.keyframe, len(frame.data)))
            out.write(frame.data)
    tmp.replace(path)


def _load(path: Path, kind: str) -> Clip:
    raw = path.read_bytes()
    frame_seconds, clock_rate = struct.unpack_from("!dI", raw, 0)
    pos = struct.calcsize("!dI")
    frames = []
    while pos < len(raw):
        keyframe, size = struct.unpack_from("!?I", raw, pos)
        pos += struct.calcsize("!?I")
        frames.append(EncodedFrame(raw[pos : pos + size], keyframe))
        pos += size
    return Clip(kind, tuple(frames), frame_seconds, clock_rate)


def _cached(kind: str, params: dict[str, object], encode: object) -> Clip:
    key = hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:12]
    path = cache_dir() / f"{kind}-{key}.clip"
    if path.exists():
        return _load(path, kind)
    clip = encode()  # type: ignore[operator]
    _save(path, clip)
    return clip


def video_clip(
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    bitrate: int = 1_000_000,
    keyframe_seconds: float = 2.0,
    seconds: float = 10.0,
) -> Clip:
    """A VP8 clip, ~``bitrate`` bps, a keyframe every ``keyframe_seconds`` (cached)."""
    params = {
        "w": width,
        "h": height,
        "fps": fps,
        "bitrate": bitrate,
        "gop": keyframe_seconds,
        "s": seconds,
    }

    def encode() -> Clip:
        gop = max(1, round(keyframe_seconds * fps))
        count = max(
            gop, round(seconds * fps) // gop * gop
        )  # whole GOPs, so the loop seam is a keyframe
        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height = width, height
        codec.pix_fmt = "yuv420p"
        codec.time_base = fractions.Fraction(1, fps)
        codec.framerate = fractions.Fraction(fps, 1)
        codec.bit_rate = bitrate
        codec.gop_size = gop
        codec.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "end-usage": "cbr",
            "keyint_min": str(gop),
            "auto-alt-ref": "0",
            "max-intra-rate": "600",  # keyframes <= 6 average frames, as with a camera
        }
        rng = np.random.default_rng(7)
        # A panning coarse texture (8x8 blocks): smooth enough for libvpx's rate control.
        coarse = rng.integers(40, 216, size=(height // 4, width // 4), dtype=np.int16)
        texture = np.kron(coarse, np.ones((8, 8), dtype=np.int16))
        frames: list[EncodedFrame] = []
        for index in range(count):
            # A panning noise texture: every frame needs real bits, like a camera picture.
            y, x = (index * 3) % height, (index * 5) % width
            # Fresh grain every frame, like sensor noise, keeps delta frames a few kB.
            grain = rng.integers(-24, 25, size=(height, width), dtype=np.int16)
            luma = (texture[y : y + height, x : x + width] + grain).clip(0, 255).astype(np.uint8)
            image = np.concatenate(
                [luma, np.full((height // 2, width), 128, dtype=np.uint8)], axis=0
            )
            picture = av.VideoFrame.from_ndarray(image, format="yuv420p")
            picture.pts = index
            picture.pict_type = av.video.frame.PictureType.I if index % gop == 0 else 0
            for packet in codec.encode(picture):
                frames.append(EncodedFrame(bytes(packet), bool(packet.is_keyframe)))
        for packet in codec.encode(None):
            frames.append(EncodedFrame(bytes(packet), bool(packet.is_keyframe)))
        return Clip("video", tuple(frames[:count]), 1 / fps, VIDEO_CLOCK)

    return _cached("video", params, encode)


def audio_clip(*, bitrate: int = 32_000, seconds: float = 10.0) -> Clip:
    """An Opus clip of 20 ms frames (50 packets/s) at ~``bitrate`` bps (cached)."""
    params = {"bitrate": bitrate, "s": seconds}

    def encode() -> Clip:
        rate, samples = AUDIO_CLOCK, 960
        codec = av.CodecContext.create("libopus", "w")
        codec.sample_rate = rate
        codec.layout = "stereo"
        codec.format = "s16"
        codec.bit_rate = bitrate
        codec.time_base = fractions.Fraction(1, rate)
        rng = np.random.default_rng(11)
        frames: list[EncodedFrame] = []
        total = round(seconds * 50)
        for index in range(total):
            t = (np.arange(samples) + index * samples) / rate
            tone = 6000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 800, samples)
            pcm = np.repeat(tone.astype(np.int16), 2).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="stereo")
            frame.sample_rate = rate
            frame.pts = index * samples
            for packet in codec.encode(frame):
                frames.append(EncodedFrame(bytes(packet), True))
        return Clip("audio", tuple(frames[:total]), 0.02, AUDIO_CLOCK)

    return _cached("audio", params, encode)
