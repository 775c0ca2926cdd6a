"""What the Room needs from one peer's media side (implemented by rooms.sfu.endpoint.Endpoint).

The Room keeps the signaling state (who is visible, which tracks are announced, when to
ask for an offer); a PeerMedia keeps the peer connection, its m-lines and the forwarding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rooms.sfu.candidates import RemoteCandidate
from rooms.sfu.media_events import SdpOffer, TrackKind
from rooms.sfu.voice_activity import VoiceCallback


class TrackSource(Protocol):
    """A published track that subscribers' PeerMedia can forward.

    A track is known by (endpoint_id, track_id): ids come from clients, so a track id
    alone never selects another peer's track (DESIGN.md invariant 5).
    """

    @property
    def endpoint_id(self) -> str: ...

    @property
    def track_id(self) -> str: ...

    @property
    def kind(self) -> TrackKind: ...

    def set_muted(self, muted: bool) -> None:
        """A moderator's mute: forward nothing to any subscriber until unmuted."""

    def on_voice_activity(self, callback: VoiceCallback | None) -> None:
        """Report each change between speech and silence of an audio track to ``callback``."""


@dataclass(frozen=True)
class OfferOutcome:
    """The result of applying one client offer."""

    answer_sdp: str
    mid_to_track_id: dict[str, str]  # every m-line of the answer
    candidates: list[str] = field(default_factory=list)  # "candidate:..." lines
    added: list[TrackSource] = field(default_factory=list)  # the peer's new send tracks
    removed: list[str] = field(default_factory=list)  # the peer's send tracks now gone


class InvalidOffer(Exception):
    """The client's offer cannot be answered (bad SDP, sendrecv m-line, unknown codec)."""


class PeerMedia(Protocol):
    """One peer's WebRTC side: the client always offers, this side answers."""

    async def apply_offer(self, offer: SdpOffer) -> OfferOutcome:
        """Apply a client offer and answer it; raises InvalidOffer."""

    async def add_candidate(self, candidate: RemoteCandidate) -> None:
        """Add a remote ICE candidate the Room has checked (usable, allowed address)."""

    def subscribe(self, source: TrackSource) -> None:
        """Forward ``source`` to this peer from the next negotiation on."""

    def unsubscribe(self, endpoint_id: str, track_id: str) -> None:
        """Stop forwarding; the m-line stays (inactive) as in Membrane."""

    def track_counts(self) -> tuple[int, int]:
        """(audio, video) m-lines this side sends or has sent: offerData.tracksTypes."""

    def needs_offer(self) -> bool:
        """True while a subscribed track has no m-line yet."""

    async def close(self) -> None:
        """Close the peer connection and stop every task and thread it owns."""


# Called (synchronously, from an aiortc event) when the peer's connection fails.
FailureCallback = Callable[[], None]
# (room name, peer id, on_failure) -> PeerMedia
PeerMediaFactory = Callable[[str, str, FailureCallback], PeerMedia]
