"""Fan-out of one published track's RTP packets to its subscribers' senders.

A Publication taps its publisher's RTCRtpReceiver: every RTP packet aiortc accepts
(SRTP-checked, parsed, RTX unwrapped) comes to ``on_rtp`` on the event loop, before any
jitter buffer, and is written at once to every Subscription. Nothing is reassembled,
queued, decoded or awaited per packet (docs/benchmarks.md has the cost this removes).

A Subscription rewrites what a subscriber must see as one continuous stream of its own
sender: SSRC and payload type from its negotiation, sequence numbers and timestamps
shifted by offsets fixed when it starts. A video subscription starts on the first packet
of a key frame, since a decoder fed a delta without its reference frame shows corruption
until the next key frame (feasibility pitfall 7). Keyframe requests (subscriber PLI/FIR,
a new subscriber) go to the publisher as a PLI, at most one per ``KEYFRAME_INTERVAL``.
A subscriber's NACK is answered from the publication's recent packets.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import RtpPacket

from rooms.sfu import aiortc_hooks, vp8
from rooms.sfu.media_events import TrackKind
from rooms.sfu.rtp_writer import RtpWriter

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


class SubscriberTrack(MediaStreamTrack):
    """The track a subscriber's sender shows (id, kind, msid); packets go around it."""

    def __init__(self, kind: TrackKind) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> None:  # type: ignore[override]
        """Never called: the forwarder replaces the sender's loop that would read it."""
        raise MediaStreamError


class Subscription:
    """One subscriber sender fed by a Publication."""

    __slots__ = (
        "_epoch",
        "_first_sequence",
        "_first_timestamp",
        "_publication",
        "_sequence_offset",
        "_start_index",
        "_stopped",
        "_timestamp_offset",
        "_timestamp_step",
        "_video",
        "_writer",
        "held_back",
        "retransmitted",
        "track",
    )

    def __init__(self, publication: Publication) -> None:
        self._publication = publication
        self._video = publication.kind == "video"
        self.track = SubscriberTrack(publication.kind)
        self._writer: RtpWriter | None = None
        self._stopped = False
        self._epoch = -1  # of the packets being forwarded; -1: none yet
        self._start_index = 0
        self._sequence_offset = 0
        self._timestamp_offset = 0
        self._first_sequence = random.getrandbits(16)  # RFC 3550: random initial values
        self._first_timestamp = random.getrandbits(32)
        # After a publisher SSRC change: 20 ms at the codec's clock rate.
        self._timestamp_step = 1800 if self._video else 960
        self.held_back = 0  # packets not sent while waiting for a key frame
        self.retransmitted = 0

    @property
    def started(self) -> bool:
        return self._writer is not None

    def start(self, writer: RtpWriter) -> None:
        """The sender is connected: forward from now on (video: from the next key frame)."""
        if self._stopped:
            return
        self._writer = writer
        if self._video:
            self._publication.request_keyframe()  # don't wait for the periodic one

    def stop(self) -> None:
        """Forward nothing more; detaches from the publication."""
        self._stopped = True
        self._writer = None
        self._publication.detach(self)

    def forward(self, packet: ForwardedPacket) -> None:
        writer = self._writer
        if writer is None:
            return
        if packet.epoch != self._epoch:
            if self._video and not packet.keyframe_start:
                self.held_back += 1
                self._publication.request_keyframe()
                return
            self._begin(packet, writer)
        elif packet.index < self._start_index:
            return  # reordered from before this subscription's first packet
        writer.write(
            (packet.index + self._sequence_offset) & 0xFFFF,
            (packet.timestamp + self._timestamp_offset) & 0xFFFFFFFF,
            packet.marker,
            packet.payload,
            packet.padding,
            packet.abs_send_time,
            packet.ntp_time,
        )

    def request_keyframe(self) -> None:
        """The subscriber sent a PLI or FIR: ask the publisher (rate-limited there)."""
        self._publication.request_keyframe()

    def retransmit(self, sequence: int) -> None:
        """Answer a NACK for ``sequence`` (this sender's numbering) if the packet is kept."""
        writer = self._writer
        if writer is None or self._epoch < 0:
            return
        packet = self._publication.recent((sequence - self._sequence_offset) & 0xFFFF)
        if packet is None or packet.epoch != self._epoch or packet.index < self._start_index:
            return
        self.retransmitted += writer.resend(
            sequence,
            (packet.timestamp + self._timestamp_offset) & 0xFFFFFFFF,
            packet.marker,
            packet.payload,
            packet.padding,
            packet.abs_send_time,
        )

    def _begin(self, packet: ForwardedPacket, writer: RtpWriter) -> None:
        """Map the publisher's numbering onto this sender's, continuing what was sent."""
        if writer.last_sequence is None:
            sequence, timestamp = self._first_sequence, self._first_timestamp
        else:
            sequence = writer.last_sequence + 1
            timestamp = writer.last_timestamp + self._timestamp_step
        self._sequence_offset = (sequence - packet.index) & 0xFFFF
        self._timestamp_offset = (timestamp - packet.timestamp) & 0xFFFFFFFF
        self._start_index = packet.index
        self._epoch = packet.epoch


class Publication:
    """A published track: its receive tap, its subscriptions and the keyframe request limiter."""

    def __init__(
        self,
        track_id: str,
        kind: TrackKind,
        send_pli: PliSender,
        *,
        label: str = "",
    ) -> None:
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
        self.packets = 0
        self.duplicates = 0
        self.keyframes_requested = 0

    @property
    def track_id(self) -> str:
        return self._track_id

    @property
    def kind(self) -> TrackKind:
        return self._kind

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout)

    def start(self, receiver: RTCRtpReceiver) -> None:
        """Take ``receiver``'s packets from now on; owned and undone by close()."""
        if self._watch is not None:
            return
        aiortc_hooks.tap_receiver(receiver, self.on_rtp, label=self._label)
        self._watch = asyncio.get_running_loop().create_task(self._watch_end(receiver))

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
        for subscription in self._fanout:
            subscription.forward(forwarded)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, or once the rate limit allows."""
        if not self._video or self._pli_task is not None:
            return  # a request is already on its way
        interval = ANSWERED_KEYFRAME_INTERVAL if self._pli_answered else KEYFRAME_INTERVAL
        delay = max(0.0, self._last_pli + interval - time.monotonic())
        self._pli_deferred = delay > 0
        self._pli_task = asyncio.get_running_loop().create_task(self._pli_after(delay))

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


class Outlet:
    """A subscriber's RTCRtpSender taken over for forwarding, fed by one Subscription at a time.

    The sender keeps its m-line, SSRC and sequence numbering for good: when the track it
    carried is gone, the next subscription of the same kind can reuse it, so a peer's SDP
    does not grow with every participant who ever came and went.
    """

    def __init__(self, sender: RTCRtpSender, *, label: str) -> None:
        self._sender = sender
        self._label = label
        self._writer: RtpWriter | None = None
        self._subscription: Subscription | None = None
        aiortc_hooks.take_over_sender(
            sender,
            on_start=self._on_start,
            retransmit=self._retransmit,
            request_keyframe=self._request_keyframe,
        )

    @property
    def subscription(self) -> Subscription | None:
        return self._subscription

    def feed(self, publication: Publication) -> Subscription:
        """Forward ``publication`` from now on, in place of what was forwarded before."""
        self.stop()
        subscription = publication.subscribe()
        self._subscription = subscription
        self._sender.replaceTrack(subscription.track)
        if self._writer is not None:
            subscription.start(self._writer)
        return subscription

    def stop(self) -> None:
        """Forward nothing (the m-line goes inactive); ``feed`` may follow."""
        if self._subscription is not None:
            self._subscription.stop()
            self._subscription = None

    def _on_start(self, parameters: RTCRtpSendParameters) -> None:
        payload_type = parameters.codecs[0].payloadType
        if payload_type is None:  # aiortc numbers every negotiated codec
            raise ValueError(f"{self._label}: sender codec without a payload type")
        self._writer = RtpWriter(
            ssrc=self._sender._ssrc,
            payload_type=payload_type,
            extension_ids=aiortc_hooks.extension_ids(parameters),
            mid=parameters.muxId,
            route=aiortc_hooks.DtlsRoute(self._sender.transport),
            report_to=self._sender,
        )
        if self._subscription is not None:
            self._subscription.start(self._writer)

    def _retransmit(self, sequence: int) -> None:
        if self._subscription is not None:
            self._subscription.retransmit(sequence)

    def _request_keyframe(self) -> None:
        if self._subscription is not None:
            self._subscription.request_keyframe()
