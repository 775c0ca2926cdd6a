"""What a subscriber's sender forwards: a Subscription to one Publication, through an Outlet.

A Subscription rewrites a publication's packets into one continuous stream of its
sender (SSRC and payload type from its negotiation, sequence numbers and timestamps
shifted by offsets fixed when it starts), starts video on a key frame and answers
NACKs from the publication's recent packets. An Outlet owns a subscriber's
RTCRtpSender for the connection's lifetime and is fed by one Subscription at a time.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpSendParameters

from rooms.sfu import aiortc_hooks
from rooms.sfu.media_events import TrackKind
from rooms.sfu.rtp_writer import RtpWriter

logger = logging.getLogger(__name__)

# NACK answers are paid from a budget: each forwarded packet earns RETRANSMIT_SHARE of a
# retransmission, up to RETRANSMIT_BURST kept. A subscriber whose link cannot carry the
# stream re-NACKs every lost packet up to ten times (Chromium), and answering all of it
# multiplied its downlink by 16 in tests/browser/test_slow_subscriber.py, filling its
# queue with stale packets. Half the forwarded rate is ten times a 5% loss; 512 packets
# repair a 2 s outage of ~1 Mbit/s video (~250 packets) in one go
# (docs/benchmarks.md, "Lossy links").
RETRANSMIT_SHARE = 0.5
RETRANSMIT_BURST = 512.0

if TYPE_CHECKING:
    from rooms.sfu.forwarding import ForwardedPacket, Publication


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
        "_retransmit_budget",
        "_sequence_offset",
        "_start_index",
        "_stopped",
        "_timestamp_offset",
        "_timestamp_step",
        "_video",
        "_writer",
        "held_back",
        "over_budget",
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
        self.over_budget = 0  # NACKed packets not resent: the budget was spent
        self._retransmit_budget = RETRANSMIT_BURST

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
        if self._retransmit_budget < RETRANSMIT_BURST:
            self._retransmit_budget += RETRANSMIT_SHARE
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
        if self._retransmit_budget < 1.0:
            self.over_budget += 1
            return
        self._retransmit_budget -= 1.0
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
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
            self._subscription = None
            # What the subscriber's network cost: read by tests and benchmarks of lossy links.
            logger.info(
                "%s: subscription ended, %d packets retransmitted, %d held back for a key frame,"
                " %d NACKed packets over the retransmission budget",
                self._label,
                subscription.retransmitted,
                subscription.held_back,
                subscription.over_budget,
            )

    def _on_start(self, parameters: RTCRtpSendParameters) -> None:
        payload_type = parameters.codecs[0].payloadType
        if payload_type is None:  # aiortc numbers every negotiated codec
            raise ValueError(f"{self._label}: sender codec without a payload type")
        self._writer = RtpWriter(
            ssrc=aiortc_hooks.sender_ssrc(self._sender),
            payload_type=payload_type,
            extension_ids=aiortc_hooks.extension_ids(parameters),
            mid=parameters.muxId,
            route=aiortc_hooks.DtlsRoute(self._sender.transport),
            report=aiortc_hooks.SenderReportCounter(self._sender),
        )
        if self._subscription is not None:
            self._subscription.start(self._writer)

    def _retransmit(self, sequence: int) -> None:
        if self._subscription is not None:
            self._subscription.retransmit(sequence)

    def _request_keyframe(self) -> None:
        if self._subscription is not None:
            self._subscription.request_keyframe()
