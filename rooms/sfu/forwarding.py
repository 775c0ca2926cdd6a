"""Fan-out of one published track's RTP packets to its subscriptions (rooms.sfu.subscription).

A Publication taps its publisher's RTCRtpReceiver: every RTP packet aiortc accepts
(SRTP-checked, parsed, RTX unwrapped) comes to ``on_rtp`` on the event loop, before any
jitter buffer, and is written at once to every Subscription. Nothing is reassembled,
queued, decoded or awaited per packet (docs/benchmarks.md has the cost this removes).

A video subscription starts on the first packet of a key frame, since a decoder fed a
delta without its reference frame shows corruption until the next key frame (feasibility
pitfall 7). Keyframe requests (subscriber PLI/FIR, a new subscriber) go to the publisher
as a PLI, at most one per ``KEYFRAME_INTERVAL`` while unanswered. The last
``HISTORY_SIZE`` packets are kept to answer subscribers' NACKs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from rooms.sfu import aiortc_hooks, vp8
from rooms.sfu.media_events import TrackKind
from rooms.sfu.subscription import Subscription
from rooms.sfu.voice_activity import VoiceActivityDetector, VoiceCallback, VoiceStatus
from rooms.tasks import spawn

logger = logging.getLogger(__name__)

# mediasoup's default keyFrameRequestDelay: one PLI/FIR upstream per second per producer,
# while the last one is unanswered. Once a key frame has answered it, the next request
# (typically the next joiner's) may go after ANSWERED_KEYFRAME_INTERVAL: still a bound
# on the key frames a subscriber sending PLIs in a loop can cost the publisher.
KEYFRAME_INTERVAL = 1.0  # seconds
ANSWERED_KEYFRAME_INTERVAL = 0.5  # seconds
# Packets kept for NACKs: ~9 s of 1 Mbit/s video. A power of two below 2**16, so a
# sequence number's low bits index it.
HISTORY_SIZE = 1024
# Seconds between 1900 (NTP's epoch) and 1970 (Unix time).
_NTP_EPOCH_OFFSET = 2_208_988_800

PliSender = Callable[[], Awaitable[None]]


def ntp_time(unix_seconds: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point seconds since 1900)."""
    return int((unix_seconds + _NTP_EPOCH_OFFSET) * 4_294_967_296)


class ForwardedPacket:
    """One received packet as every subscription reads it; also a history entry."""

    __slots__ = (
        "abs_send_time",
        "epoch",
        "index",
        "keyframe_start",
        "marker",
        "ntp_time",
        "padding",
        "payload",
        "timestamp",
    )

    def __init__(
        self,
        epoch: int,
        index: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
        padding: int,
        keyframe_start: bool,
        ntp: int,
    ) -> None:
        self.epoch = epoch  # changes with the publisher's SSRC
        self.index = index  # the sequence number, extended past its 16-bit wraps
        self.timestamp = timestamp
        self.marker = marker
        self.payload = payload
        self.padding = padding
        self.keyframe_start = keyframe_start
        self.ntp_time = ntp
        # abs-send-time: 6.18 fixed-point seconds, the NTP time's middle 24 bits.
        self.abs_send_time = ((ntp >> 14) & 0xFFFFFF).to_bytes(3, "big")


class Publication:
    """A published track: its receive tap, its subscriptions and the keyframe request limiter."""

    def __init__(
        self,
        track_id: str,
        kind: TrackKind,
        send_pli: PliSender,
        *,
        endpoint_id: str = "",
        label: str = "",
    ) -> None:
        self._endpoint_id = endpoint_id
        self._track_id = track_id
        self._kind: TrackKind = kind
        self._video = kind == "video"
        self._send_pli = send_pli
        self._label = label or track_id
        self._fanout: tuple[Subscription, ...] = ()
        self._history: list[ForwardedPacket | None] = [None] * HISTORY_SIZE
        self._ssrc: int | None = None
        self._epoch = -1
        self._highest = 0  # extended sequence number of the newest packet of this epoch
        self._last_pli = -KEYFRAME_INTERVAL
        self._pli_task: asyncio.Task[None] | None = None
        self._pli_deferred = False  # the pending request is waiting out the rate limit
        self._pli_answered = True  # a key frame has passed since the last PLI
        self._watch: asyncio.Task[None] | None = None
        self._muted = False  # by a moderator: nothing is forwarded
        # The RTP timestamp of the newest forwarded packet; while muted, the frame that had
        # begun when the mute came (this timestamp) is still completed.
        self._frame_timestamp: int | None = None
        self._muted_frame: int | None = None
        # Audio only: who is speaking, from the audio-level extension (voice_activity.py).
        self._voice = VoiceActivityDetector() if kind == "audio" else None
        self._on_voice: VoiceCallback | None = None
        self.packets = 0
        self.duplicates = 0
        self.keyframes_requested = 0

    @property
    def endpoint_id(self) -> str:
        """The publishing peer: with track_id, the key of every subscription to this track."""
        return self._endpoint_id

    @property
    def track_id(self) -> str:
        return self._track_id

    @property
    def kind(self) -> TrackKind:
        return self._kind

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._fanout

    @property
    def muted(self) -> bool:
        return self._muted

    def on_voice_activity(self, callback: VoiceCallback | None) -> None:
        """Call ``callback`` on each change between speech and silence (audio tracks only)."""
        self._on_voice = callback

    def set_muted(self, muted: bool) -> None:
        """A moderator's mute: forward nothing to anyone (and keep nothing) until unmuted,
        once the frame in progress is complete.

        Unmuting starts a new epoch, as a publisher's new SSRC does: each subscription
        continues its own numbering, video from the next key frame, asked for at once
        (rate-limited as any request). The packets of the muted time are never sent, so a
        subscriber's NACKs for them cannot reach them either.
        """
        if muted == self._muted:
            return
        self._muted = muted
        # A frame cut in the middle would reach every subscriber incomplete: let it finish.
        self._muted_frame = self._frame_timestamp if muted else None
        if muted and self._voice is not None and self._voice.reset():
            self._tell_voice("silence")  # nobody hears it any more
        if not muted:
            self._ssrc = None  # the next packet begins a new epoch
            self.request_keyframe()

    def start(self, receiver: RTCRtpReceiver) -> None:
        """Take ``receiver``'s packets from now on; owned and undone by close()."""
        if self._watch is not None:
            return
        aiortc_hooks.tap_receiver(receiver, self.on_rtp, label=self._label)
        self._watch = spawn(self._watch_end(receiver), name=f"track-end-{self._label}")

    def subscribe(self) -> Subscription:
        """A new subscription; it forwards once ``start``ed with a writer (see Outlet)."""
        subscription = Subscription(self)
        self._fanout = (*self._fanout, subscription)
        return subscription

    def detach(self, subscription: Subscription) -> None:
        self._fanout = tuple(s for s in self._fanout if s is not subscription)

    def recent(self, sequence: int) -> ForwardedPacket | None:
        """The kept packet with this (16-bit) publisher sequence number, if any."""
        packet = self._history[sequence % HISTORY_SIZE]
        if packet is not None and packet.index & 0xFFFF == sequence:
            return packet
        return None

    def on_rtp(self, packet: RtpPacket) -> None:
        """One packet from the publisher: hand it to every subscription (the hot path)."""
        self.packets += 1
        if self._muted and (packet.timestamp != self._muted_frame or packet.ssrc != self._ssrc):
            return
        if packet.ssrc != self._ssrc:
            # A new source (the first, or the publisher restarted its stream): every
            # subscription begins again, video on a key frame.
            self._ssrc = packet.ssrc
            self._epoch += 1
            self._highest = packet.sequence_number + 0x10000
        sequence = packet.sequence_number
        highest = self._highest
        ahead = (sequence - highest) & 0xFFFF
        if ahead < 0x8000:
            index = self._highest = highest + ahead
        else:
            index = highest - (0x10000 - ahead)
        kept = self._history[index % HISTORY_SIZE]
        if kept is not None and kept.index == index and kept.epoch == self._epoch:
            # Forwarded already: a retransmission answering a NACK that crossed the
            # original, or a duplicate from the network.
            self.duplicates += 1
            return
        voice = self._voice
        if voice is not None:
            level = packet.extensions.audio_level  # (voice flag, -dBov) or None
            if level is not None:
                status = voice.update(level[1], time.monotonic())
                if status is not None:
                    self._tell_voice(status)
        payload = packet.payload
        keyframe_start = self._video and vp8.starts_keyframe(payload)
        if keyframe_start:
            self._keyframe_passed()
        forwarded = ForwardedPacket(
            self._epoch,
            index,
            packet.timestamp,
            bool(packet.marker),
            payload,
            packet.padding_size,
            keyframe_start,
            ntp_time(time.time()),
        )
        self._history[index % HISTORY_SIZE] = forwarded
        self._frame_timestamp = packet.timestamp
        for subscription in self._fanout:
            subscription.forward(forwarded)

    def _tell_voice(self, status: VoiceStatus) -> None:
        if self._on_voice is not None:
            self._on_voice(self._endpoint_id, self._track_id, status)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, or once the rate limit allows."""
        if not self._video or self._pli_task is not None:
            return  # a request is already on its way
        interval = ANSWERED_KEYFRAME_INTERVAL if self._pli_answered else KEYFRAME_INTERVAL
        delay = max(0.0, self._last_pli + interval - time.monotonic())
        self._pli_deferred = delay > 0
        self._pli_task = spawn(self._pli_after(delay), name=f"pli-{self._label}")

    async def _pli_after(self, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
                self._pli_deferred = False
            self._last_pli = time.monotonic()
            self._pli_answered = False
            self.keyframes_requested += 1
            logger.debug("%s: PLI to publisher", self._label)
            await self._send_pli()
        finally:
            self._pli_task = None
            self._pli_deferred = False

    def _keyframe_passed(self) -> None:
        """A key frame is on its way to every subscription: it answers a waiting request.

        Without this, a request deferred by the rate limit fires after the key frame
        it asked for, and the next joiner's request waits a whole interval for it.
        """
        self._pli_answered = True
        if self._pli_deferred and self._pli_task is not None:
            self._pli_task.cancel()
            self._pli_task = None
            self._pli_deferred = False

    async def _watch_end(self, receiver: RTCRtpReceiver) -> None:
        # The tap leaves the receiver's track nothing to yield until the receiver stops.
        track = receiver.track
        try:
            while True:
                await track.recv()
        except MediaStreamError:
            logger.debug("%s: publisher track ended", self._label)
        self._end_subscriptions()

    def _end_subscriptions(self) -> None:
        for subscription in self._fanout:
            subscription.stop()

    async def close(self) -> None:
        """Stop forwarding, detach every subscription, cancel a pending PLI."""
        tasks = [t for t in (self._watch, self._pli_task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watch = self._pli_task = None
        self._end_subscriptions()
