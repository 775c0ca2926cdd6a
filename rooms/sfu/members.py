"""What the Room keeps per admitted peer: signaling state, its tracks and its allowances."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rooms.limits import Limits
from rooms.roomtypes import PeerInfo
from rooms.sfu.bounds import EventBucket
from rooms.sfu.media_events import MediaEventError
from rooms.sfu.peer_media import PeerMedia, TrackSource

# The track metadata key the server owns: present (``"moderator"``) while a moderator has
# the track muted, and taken out of whatever the publisher itself sends.
MUTED_BY = "mutedBy"


@dataclass
class Published:
    source: TrackSource
    metadata: dict[str, Any]  # as the publisher sent it
    muted_by_moderator: bool = False

    @property
    def shown(self) -> dict[str, Any]:
        """The metadata the others see: the publisher's, with the server's ``mutedBy``."""
        shown = {key: value for key, value in self.metadata.items() if key != MUTED_BY}
        if self.muted_by_moderator:
            shown[MUTED_BY] = "moderator"
        return shown


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
    # Remote candidates since the last offer (the offer's own included), usable or not.
    negotiation_candidates: int = 0
    # The distinct (address, port) of the usable ones on the current peer connection: what
    # aioice keeps (and pairs) for as long as the connection lives.
    candidate_addresses: set[tuple[str, int]] = field(default_factory=set)
    # Every a=mid offered on the current peer connection (reset with it).
    offered_mids: frozenset[str] = frozenset()

    @property
    def peer_id(self) -> str:
        return self.info.peer_id

    def count_candidates(
        self,
        count: int,
        addresses: Iterable[tuple[str, int]],
        limits: Limits,
        *,
        new_negotiation: bool,
    ) -> None:
        """Account for ``count`` more candidates, of which ``addresses`` are usable; or raise
        naming the bound passed, accounting for nothing."""
        in_negotiation = count if new_negotiation else self.negotiation_candidates + count
        if in_negotiation > limits.candidates_per_negotiation:
            raise MediaEventError(
                f"more than {limits.candidates_per_negotiation} candidates in one negotiation "
                "(candidates_per_negotiation)"
            )
        known = self.candidate_addresses | set(addresses)
        if len(known) > limits.candidates_per_peer:
            raise MediaEventError(
                f"more than {limits.candidates_per_peer} candidates (candidates_per_peer)"
            )
        self.negotiation_candidates = in_negotiation
        self.candidate_addresses = known

    def forget_connection(self) -> None:
        """The peer connection is gone: what was counted against it goes too."""
        self.candidate_addresses = set()
        self.offered_mids = frozenset()


def new_member(peer: PeerInfo, limits: Limits, max_participants: int) -> Member:
    return Member(
        info=peer,
        bucket=EventBucket(limits.media_event_burst, limits.media_events_per_second),
        max_participants=max_participants,
    )
