"""Peers a room keeps while their socket is gone: one grace timer each.

A resumable peer whose websocket closed without ``phx_leave`` (or whose web process
died) is *detached*: it stays in the Room, its media keeps flowing, the others are
told nothing. If no resume re-attaches it within the grace period, the timer posts an
expiry into the room host's queue, and the host removes the peer there, in order
with everything else it handles (a timer never touches the Room itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXPIRED = "host.resume_expired"  # host-internal: never built from layer input


@dataclass
class _Detachment:
    channel: str  # the channel the peer had when it was detached
    timer: asyncio.TimerHandle


class DetachedPeers:
    """The grace timers of one room host; ``post`` puts a message into its queue."""

    def __init__(self, grace_seconds: float, post: Callable[[dict[str, Any]], None]) -> None:
        self.grace_seconds = grace_seconds
        self._post = post
        self._by_peer: dict[str, _Detachment] = {}
        # When each resumed peer was re-attached (event loop time).
        self._resumed_at: dict[str, float] = {}

    def __contains__(self, peer_id: str) -> bool:
        return peer_id in self._by_peer

    def detach(self, peer_id: str, channel: str) -> None:
        """Start the peer's grace period (once: a second detach keeps the first timer)."""
        if peer_id in self._by_peer:
            return
        expiry = {"type": EXPIRED, "peer_id": peer_id, "channel": channel}
        timer = asyncio.get_running_loop().call_later(self.grace_seconds, self._post, expiry)
        self._by_peer[peer_id] = _Detachment(channel, timer)

    def attach(self, peer_id: str) -> None:
        """The peer is back on a new channel: its timer will not fire."""
        self._cancel(peer_id)
        self._resumed_at[peer_id] = asyncio.get_running_loop().time()

    def forget(self, peer_id: str) -> None:
        """The peer has left the room."""
        self._cancel(peer_id)
        self._resumed_at.pop(peer_id, None)

    def settled(self, peer_id: str, seconds: float) -> bool:
        """Not detached, and not resumed within ``seconds``: its channel's web process has
        had the time to publish its lease, so a lapsed lease means that process is dead."""
        if peer_id in self._by_peer:
            return False
        resumed_at = self._resumed_at.get(peer_id)
        return resumed_at is None or asyncio.get_running_loop().time() - resumed_at >= seconds

    def _cancel(self, peer_id: str) -> None:
        detachment = self._by_peer.pop(peer_id, None)
        if detachment is not None:
            detachment.timer.cancel()

    def expire(self, message: dict[str, Any]) -> str | None:
        """The peer id to remove for an expiry message, or None if it is stale.

        Stale: the peer was resumed (and perhaps detached again from its new channel)
        after the timer had already posted.
        """
        peer_id = message["peer_id"]
        detachment = self._by_peer.get(peer_id)
        if detachment is None or detachment.channel != message["channel"]:
            return None
        del self._by_peer[peer_id]
        return str(peer_id)

    def clear(self) -> None:
        for detachment in self._by_peer.values():
            detachment.timer.cancel()
        self._by_peer.clear()
        self._resumed_at.clear()
