"""Fan-out of one published track's encoded frames to its subscribers.

A Publication reads its publisher's RemoteStreamTrack from the moment the track exists
(an unread track queues without bound, feasibility pitfall 6) and offers every packet
to each SubscriberTrack. A SubscriberTrack is what a subscriber's RTCRtpSender reads;
it holds back video deltas until its first keyframe, since a decoder fed a delta
without its reference frame shows corruption until the next keyframe (pitfall 7).
Keyframe requests (subscriber PLI/FIR, a new subscriber, an overflow) go to the
publisher as a PLI, at most one per ``KEYFRAME_INTERVAL`` per track.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.sfu.media_events import TrackKind

logger = logging.getLogger(__name__)

# mediasoup's default keyFrameRequestDelay: one PLI/FIR upstream per second per producer.
KEYFRAME_INTERVAL = 1.0  # seconds
# About 2 s of video at 30 fps, or of Opus at 50 packets/s; past it the subscriber's
# sender is stalled, so the backlog is dropped and the subscriber resyncs on a keyframe.
QUEUE_LIMIT = 100  # packets

PliSender = Callable[[], Awaitable[None]]


class SubscriberTrack(MediaStreamTrack):
    """One subscriber's view of a Publication: encoded packets, gated on a keyframe."""

    def __init__(self, publication: Publication) -> None:
        super().__init__()
        self.kind = publication.kind
        self._publication = publication
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue()
        self._reading = False  # set by the sender's first recv(): before it, frames would pile up
        self._need_keyframe = publication.kind == "video"
        self.dropped = 0

    def offer(self, packet: av.Packet) -> None:
        """Queue a packet for the sender, or drop it while waiting for a keyframe."""
        if not self._reading:
            return
        if self._need_keyframe:
            if not packet.is_keyframe:
                self.dropped += 1
                self._publication.request_keyframe()
                return
            self._need_keyframe = False
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._resync()
            return
        self._queue.put_nowait(packet)

    def end(self) -> None:
        """The publication is gone: the sender's next recv() raises MediaStreamError."""
        self._queue.put_nowait(None)

    def _resync(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self.dropped += 1
        if self.kind == "video":
            self._need_keyframe = True
            self._publication.request_keyframe()

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._reading:
            self._reading = True
            # A new subscriber should not wait for the publisher's next periodic keyframe.
            if self.kind == "video":
                self._publication.request_keyframe()
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet

    def stop(self) -> None:
        self._publication.detach(self)
        super().stop()


class Publication:
    """A published track: its reader task, its subscribers and the keyframe request limiter."""

    def __init__(
        self,
        track_id: str,
        kind: TrackKind,
        source: MediaStreamTrack,
        send_pli: PliSender,
        *,
        label: str = "",
    ) -> None:
        self._track_id = track_id
        self._kind: TrackKind = kind
        self._source = source
        self._send_pli = send_pli
        self._label = label or track_id
        self._subscribers: set[SubscriberTrack] = set()
        self._last_pli = -KEYFRAME_INTERVAL
        self._pli_task: asyncio.Task[None] | None = None
        self._pli_deferred = False  # the pending request is waiting out the rate limit
        self._reader: asyncio.Task[None] | None = None
        self.packets = 0
        self.keyframes_requested = 0

    @property
    def track_id(self) -> str:
        return self._track_id

    @property
    def kind(self) -> TrackKind:
        return self._kind

    def start(self) -> None:
        """Start reading the publisher's track; owned and cancelled by close()."""
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    def subscribe(self) -> SubscriberTrack:
        track = SubscriberTrack(self)
        self._subscribers.add(track)
        return track

    def detach(self, track: SubscriberTrack) -> None:
        self._subscribers.discard(track)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, or once the rate limit allows."""
        if self._kind != "video" or self._pli_task is not None:
            return  # a request is already on its way
        delay = max(0.0, self._last_pli + KEYFRAME_INTERVAL - time.monotonic())
        self._pli_task = asyncio.get_running_loop().create_task(self._pli_after(delay))

    async def _pli_after(self, delay: float) -> None:
        try:
            if delay:
                self._pli_deferred = True
                await asyncio.sleep(delay)
                self._pli_deferred = False
            self._last_pli = time.monotonic()
            self.keyframes_requested += 1
            logger.debug("%s: PLI to publisher", self._label)
            await self._send_pli()
        finally:
            self._pli_task = None
            self._pli_deferred = False

    def _keyframe_passed(self) -> None:
        """A keyframe reached every subscriber: it answers any request still waiting.

        Without this, a request deferred by the rate limit fires after the keyframe
        it asked for, and the next joiner's request waits a whole interval for it.
        """
        if self._pli_deferred and self._pli_task is not None:
            self._pli_task.cancel()
            self._pli_task = None
            self._pli_deferred = False

    async def _read(self) -> None:
        try:
            while True:
                packet: Any = await self._source.recv()
                self.packets += 1
                if packet.is_keyframe:
                    self._keyframe_passed()
                for subscriber in list(self._subscribers):
                    subscriber.offer(packet)
        except MediaStreamError:
            logger.debug("%s: publisher track ended", self._label)
        finally:
            for subscriber in list(self._subscribers):
                subscriber.end()

    async def close(self) -> None:
        """Stop reading, end every subscriber track, cancel a pending PLI."""
        tasks = [t for t in (self._reader, self._pli_task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._reader = self._pli_task = None
        for subscriber in list(self._subscribers):
            subscriber.end()
        self._subscribers.clear()
