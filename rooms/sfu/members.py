"""What the Room keeps per admitted peer: signaling state, its tracks and its allowances."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from rooms.limits import Limits
from rooms.roomtypes import PeerInfo
from rooms.sfu.bounds import EventBucket
from rooms.sfu.media_events import MediaEventError
from rooms.sfu.peer_media import PeerMedia, TrackSource


@dataclass
class Published:
    source: TrackSource
    metadata: dict[str, Any]


@dataclass
class Member:
    """One admitted peer. Its tracks are keyed by track id *within* this member only."""

    info: PeerInfo
    bucket: EventBucket
    max_participants: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connected: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    published: dict[str, Published] = field(default_factory=dict)
    media: PeerMedia | None = None
    negotiating: bool = False  # offerData sent, sdpAnswer not yet
    renegotiate_again: bool = False
    # Removes the peer if it has not connected in time; None once connected.
    connect_timer: asyncio.Task[None] | None = None
    # Remote candidates since the last offer (the offer's own included), and in all.
    negotiation_candidates: int = 0
    peer_candidates: int = 0
    # Every a=mid offered on the current peer connection (reset with it).
    offered_mids: frozenset[str] = frozenset()

    @property
    def peer_id(self) -> str:
        return self.info.peer_id

    def count_candidates(self, count: int, limits: Limits, *, new_negotiation: bool) -> None:
        """Account for ``count`` more remote candidates, or raise naming the bound passed."""
        in_negotiation = count if new_negotiation else self.negotiation_candidates + count
        if in_negotiation > limits.candidates_per_negotiation:
            raise MediaEventError(
                f"more than {limits.candidates_per_negotiation} candidates in one negotiation "
                "(candidates_per_negotiation)"
            )
        if self.peer_candidates + count > limits.candidates_per_peer:
            raise MediaEventError(
                f"more than {limits.candidates_per_peer} candidates (candidates_per_peer)"
            )
        self.negotiation_candidates = in_negotiation
        self.peer_candidates += count


def new_member(peer: PeerInfo, limits: Limits, max_participants: int) -> Member:
    return Member(
        info=peer,
        bucket=EventBucket(limits.media_event_burst, limits.media_events_per_second),
        max_participants=max_participants,
    )
