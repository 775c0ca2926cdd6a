"""The contract between a room worker (transport) and the Room it hosts (SFU).

The worker turns ``room.*`` layer messages into calls on a Room and gives the
Room a RoomOutbox to reach peers; the Room never sees the channel layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rooms.grants import PARTICIPANT, Grant
from rooms.messages import JoinRefusal, RemovalReason
from rooms.moderation import ModerationRecord


@dataclass(frozen=True)
class PeerInfo:
    """A peer as the room knows it."""

    peer_id: str
    channel: str  # the consumer's channel name, for peer.* messages
    display_name: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    joined_at: datetime | None = None
    grants: frozenset[Grant] = PARTICIPANT
    identity: str = ""  # who the web side admitted: a token's identity, a username, or ""
    # The client can take this peer back after its socket broke (rooms/resume.py).
    resumable: bool = False


class JoinRefused(Exception):
    """Room.add_peer refuses a peer; carries the stable reason."""

    def __init__(self, reason: JoinRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class RoomOutbox(Protocol):
    """How a Room reaches its peers; the worker implements it over the layer."""

    async def media_event(self, peer: PeerInfo, data: str) -> None:
        """Push ``mediaEvent {"data": data}`` to one peer."""

    async def peer_left(self, peer: PeerInfo, reason: RemovalReason) -> None:
        """Called exactly once per admitted peer, whatever removed it (invariant 2).

        The worker records the participation's end and, for reasons the peer did
        not choose itself, tells the peer's consumer (``peer.removed``).
        """

    def moderated(self, record: ModerationRecord) -> None:
        """A moderator's action was applied: record it in the participation history."""

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        """Ask the room's owner to remove a peer, in order with everything else it handles.

        For removals the Room decides on outside a call from its owner (a media
        failure reported by aiortc): the owner later calls ``remove_peer``.
        """


class RoomLike(Protocol):
    """What a worker needs from a Room (implemented by rooms.sfu.room.Room)."""

    name: str

    @property
    def peers(self) -> list[PeerInfo]: ...

    async def add_peer(self, peer: PeerInfo, *, max_participants: int) -> None:
        """Admit a peer or raise JoinRefused(JoinRefusal.FULL)."""

    async def remove_peer(self, peer_id: str, reason: RemovalReason) -> None:
        """Remove a peer if present (idempotent); notifies the others."""

    async def handle_media_event(self, peer_id: str, data: str) -> None:
        """A raw mediaEvent string from one peer; never raises on bad input."""

    def can_resume(self, peer_id: str) -> bool:
        """True if the peer is here, visible and resumable: a resume may re-attach it."""

    def reattach(self, peer_id: str, channel: str) -> str:
        """Point a resumable peer at a new consumer channel; returns the one it had."""

    async def resync(self, peer_id: str) -> None:
        """Tell a resumed peer the room as it is now and open a fresh negotiation round.

        Pushes sent while it was detached are lost; this makes it consistent again.
        """

    async def close(self, reason: RemovalReason) -> None:
        """Remove every peer with ``reason`` (outbox.peer_left for each) and free all resources."""
