"""Fakes for Room tests without aiortc: an outbox that records, a scripted PeerMedia."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from rooms.messages import RemovalReason
from rooms.moderation import ModerationRecord
from rooms.roomtypes import PeerInfo
from rooms.sfu.candidates import RemoteCandidate
from rooms.sfu.media_events import SdpOffer, TrackKind
from rooms.sfu.peer_media import FailureCallback, OfferOutcome, TrackSource
from rooms.sfu.voice_activity import VoiceCallback


class FakeOutbox:
    """Records every media event (parsed) and every peer_left call."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.left: list[tuple[str, RemovalReason]] = []
        self.moderations: list[ModerationRecord] = []
        # The Room under test; request_removal acts as its owner (the RoomHost).
        self.room: Any = None
        self.removals: set[asyncio.Task[None]] = set()

    async def media_event(self, peer: PeerInfo, data: str) -> None:
        self.events.append((peer.peer_id, json.loads(data)))

    async def peer_left(self, peer: PeerInfo, reason: RemovalReason) -> None:
        self.left.append((peer.peer_id, reason))

    def moderated(self, record: ModerationRecord) -> None:
        self.moderations.append(record)

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        """As the room's owner does: remove the peer in a task of its own (awaited by close)."""
        assert self.room is not None, "set outbox.room to the Room under test"
        task = asyncio.get_running_loop().create_task(self.room.remove_peer(peer_id, reason))
        self.removals.add(task)
        task.add_done_callback(self.removals.discard)

    def types_for(self, peer_id: str) -> list[str]:
        """Event types sent to one peer, custom events as custom:<inner>."""
        return [
            f"custom:{e['data']['type']}" if e["type"] == "custom" else e["type"]
            for pid, e in self.events
            if pid == peer_id
        ]

    def for_peer(self, peer_id: str, kind: str) -> list[dict[str, Any]]:
        return [e for pid, e in self.events if pid == peer_id and e["type"] == kind]


@dataclass
class FakeSource:
    endpoint_id: str
    track_id: str
    kind: TrackKind
    muted: bool = False

    voice: VoiceCallback | None = None

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    def on_voice_activity(self, callback: VoiceCallback | None) -> None:
        self.voice = callback


@dataclass
class FakeMedia:
    """A PeerMedia whose offers publish the tracks named in midToTrackId (kind from the id)."""

    peer_id: str
    on_failure: FailureCallback
    subscriptions: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, track)
    slots: list[tuple[TrackKind, str]] = field(default_factory=list)
    own: set[str] = field(default_factory=set)
    bound: int = 0
    closed: bool = False
    candidates: list[RemoteCandidate] = field(default_factory=list)
    offers: list[SdpOffer] = field(default_factory=list)
    sources: dict[str, FakeSource] = field(default_factory=dict)  # published, by track id

    async def apply_offer(self, offer: SdpOffer) -> OfferOutcome:
        self.offers.append(offer)
        ids = set(offer.mid_to_track_id.values())
        added = [
            FakeSource(self.peer_id, t, "audio" if "audio" in t else "video")
            for t in sorted(ids - self.own)
        ]
        removed = sorted(self.own - ids)
        self.own = ids
        self.sources.update((source.track_id, source) for source in added)
        self.bound = len(self.slots)
        return OfferOutcome(
            answer_sdp="v=0\r\n",
            mid_to_track_id=dict(offer.mid_to_track_id),
            candidates=["candidate:1 1 udp 1 192.0.2.2 40000 typ host"],
            added=list(added),
            removed=removed,
        )

    async def add_candidate(self, candidate: RemoteCandidate) -> None:
        self.candidates.append(candidate)

    @property
    def subscribed(self) -> list[str]:
        return [track_id for _, track_id in self.subscriptions]

    def subscribe(self, source: TrackSource) -> None:
        self.subscriptions.append((source.endpoint_id, source.track_id))
        self.slots.append((source.kind, source.track_id))

    def unsubscribe(self, endpoint_id: str, track_id: str) -> None:
        self.subscriptions.remove((endpoint_id, track_id))

    def track_counts(self) -> tuple[int, int]:
        audio = sum(1 for kind, _ in self.slots if kind == "audio")
        return audio, len(self.slots) - audio

    def needs_offer(self) -> bool:
        return self.bound < len(self.slots)

    async def close(self) -> None:
        self.closed = True


class FakeMediaFactory:
    def __init__(self) -> None:
        self.made: dict[str, FakeMedia] = {}

    def __call__(self, room: str, peer_id: str, on_failure: FailureCallback) -> FakeMedia:
        media = FakeMedia(peer_id, on_failure)
        self.made[peer_id] = media
        return media
