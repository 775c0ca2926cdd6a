"""A Room double for worker tests: keeps peers, records media events."""

from __future__ import annotations

import dataclasses

from rooms.messages import JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused, PeerInfo, RoomOutbox


class FakeRoom:
    def __init__(self, name: str, outbox: RoomOutbox) -> None:
        self.name = name
        self.outbox = outbox
        self._peers: dict[str, PeerInfo] = {}
        self.media_events: list[tuple[str, str]] = []
        self.closed_with: RemovalReason | None = None

    @property
    def peers(self) -> list[PeerInfo]:
        return list(self._peers.values())

    async def add_peer(self, peer: PeerInfo, *, max_participants: int) -> None:
        if len(self._peers) >= max_participants:
            raise JoinRefused(JoinRefusal.FULL)
        self._peers[peer.peer_id] = peer

    async def remove_peer(self, peer_id: str, reason: RemovalReason) -> None:
        peer = self._peers.pop(peer_id, None)
        if peer is not None:
            await self.outbox.peer_left(peer, reason)

    async def handle_media_event(self, peer_id: str, data: str) -> None:
        self.media_events.append((peer_id, data))
        # Echo to every other peer, as a relay would.
        for other in self.peers:
            if other.peer_id != peer_id:
                await self.outbox.media_event(other, data)

    def can_resume(self, peer_id: str) -> bool:
        peer = self._peers.get(peer_id)
        return peer is not None and peer.resumable

    def reattach(self, peer_id: str, channel: str) -> str:
        peer = self._peers[peer_id]
        self._peers[peer_id] = dataclasses.replace(peer, channel=channel)
        return peer.channel

    async def resync(self, peer_id: str) -> None:
        """Nothing to resend: a FakeRoom keeps no signalling state."""

    async def close(self, reason: RemovalReason) -> None:
        self.closed_with = reason
        for peer_id in list(self._peers):
            await self.remove_peer(peer_id, reason)
