"""Bystanders with real media: the load generator's bots (bench/loadgen), counted per second.

The bots publish pre-encoded clips (Opus at 50 frames/s, VP8 at 25) and their subscribers
count frames without decoding (``bench.loadgen.tap``). ``counting_receivers`` applies the
load generator's aiortc patches for the duration of a ``with`` only, and gathers ICE on
127.0.0.1 alone, so that nothing leaves loopback and other test modules get aiortc back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import aioice.ice
import aiortc.rtcrtpreceiver as receiver_module
from aiortc import RTCRtpReceiver

from bench.loadgen import tap
from bench.loadgen.bot import BotMedia
from bench.loadgen.membrane_bot import MembraneBot
from bench.loadgen.stats import StreamStats
from bench.media import audio_clip, video_clip

BOT_START_SECONDS = 30.0


@contextlib.contextmanager
def counting_receivers() -> Iterator[None]:
    """The load generator's receive counters and loopback-only ICE, undone on exit."""
    saved = (
        RTCRtpReceiver._handle_rtp_packet,
        receiver_module.decoder_worker,
        aioice.ice.get_host_addresses,
    )
    tap.install()
    tap.use_host_addresses(["127.0.0.1"])
    try:
        yield
    finally:
        (
            RTCRtpReceiver._handle_rtp_packet,  # type: ignore[method-assign]
            receiver_module.decoder_worker,
            aioice.ice.get_host_addresses,
        ) = saved


class Bots:
    """Starts bots and closes every one it started."""

    def __init__(self, socket_url: str) -> None:
        self._url = f"{socket_url}/websocket?vsn=2.0.0"
        self.started: list[MembraneBot] = []

    async def start(
        self, name: str, room: str, source: str, *, audio: bool = False, video: bool = False
    ) -> MembraneBot:
        media = BotMedia(
            video=video_clip(bitrate=300_000) if video else None,
            audio=audio_clip() if audio else None,
        )
        bot = MembraneBot(name, media, url=self._url, room=room, local_address=source)
        self.started.append(bot)
        await asyncio.wait_for(bot.start(), BOT_START_SECONDS)
        return bot

    async def close(self) -> None:
        await asyncio.gather(*(bot.close() for bot in self.started), return_exceptions=True)


async def stream_of(subscriber: MembraneBot, track_id: str, timeout: float = 20.0) -> StreamStats:
    """The subscriber's counters of ``track_id`` once its first frame arrived."""
    async with asyncio.timeout(timeout):
        while True:
            stream = subscriber.streams.get(track_id)
            if stream is not None and stream.frames > 0:
                return stream
            await asyncio.sleep(0.05)


@dataclass
class FrameRate:
    """Frames counted in each whole second of a window."""

    per_second: list[int]

    @property
    def minimum(self) -> int:
        return min(self.per_second, default=0)

    @property
    def mean(self) -> float:
        return sum(self.per_second) / len(self.per_second) if self.per_second else 0.0


class FrameRateSampler:
    """Counts ``stream.frames`` once a second while running."""

    def __init__(self, stream: StreamStats) -> None:
        self._stream = stream
        self._counts: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="frame-rate")
        return self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started, before = loop.time(), self._stream.frames
        for second in range(1, 10**6):
            await asyncio.sleep(max(0.0, started + second - loop.time()))
            now = self._stream.frames
            self._counts.append(now - before)
            before = now

    async def stop(self) -> FrameRate:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return FrameRate(self._counts)
