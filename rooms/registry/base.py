"""What the registry stores and the interface both backends implement.

The registry is the shared state of DESIGN.md: which workers are alive (a
lease each, refreshed by heartbeats), which worker owns which room (keyed by
the room's group name), and who is live in each room (for the admin).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

from rooms.roomtypes import PeerInfo


@dataclass(frozen=True)
class WorkerRef:
    """A room worker process: its id and the channel it receives ``room.*`` on."""

    worker_id: str
    channel: str


@dataclass(frozen=True)
class WorkerStatus:
    ref: WorkerRef
    load: int  # peers hosted; new rooms go to the lowest


@dataclass(frozen=True)
class LivePeer:
    peer_id: str
    display_name: str
    joined_at: str  # ISO 8601, UTC

    @classmethod
    def of(cls, peer: PeerInfo) -> LivePeer:
        joined_at = peer.joined_at.astimezone(UTC).isoformat() if peer.joined_at else ""
        return cls(peer.peer_id, peer.display_name, joined_at)


class Registry(Protocol):
    async def heartbeat(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        """Create or refresh a worker's lease.

        ``rooms`` are the rooms the worker hosts: creating a lease that was missing (a
        Redis that restarted empty) records the worker as their owner first, where they
        have none, in the same step (see ``restore_room``).
        """

    async def unregister(self, ref: WorkerRef) -> None:
        """Drop a worker's lease at once (clean shutdown)."""

    async def live_workers(self) -> list[WorkerStatus]: ...

    async def heartbeat_web(self, web_ids: Iterable[str], lease_seconds: float) -> None:
        """Create or refresh the leases of web processes (ids from their channel names)."""

    async def alive_web(self, web_ids: Iterable[str]) -> set[str]:
        """The subset of ``web_ids`` whose lease is current."""

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        """The subset of ``worker_ids`` whose lease is current."""

    async def claim_room(self, room: str) -> WorkerRef | None:
        """The room's live owner, or atomically make the least-loaded live worker its owner.

        Concurrent claims for one room from any number of processes all return the
        same worker. None when no worker is alive.
        """

    async def owner(self, room: str) -> WorkerRef | None:
        """The room's owner if it is alive."""

    async def release_room(self, room: str, ref: WorkerRef) -> None:
        """Forget the room's owner and live peers, if ``ref`` still owns it."""

    async def restore_room(self, room: str, ref: WorkerRef) -> bool:
        """Record ``ref`` as the room's owner unless it has one; True if ``ref`` owns it now.

        For a worker rewriting what a Redis that restarted empty has lost: it never
        takes a room another worker claimed meanwhile.
        """

    async def set_live_peers(self, room: str, peers: list[LivePeer]) -> None: ...

    async def live_peers(self, room: str) -> list[LivePeer]: ...

    async def live_rooms(self) -> list[str]:
        """Names of rooms whose owner is alive."""

    async def close(self) -> None:
        """Release connections."""


class LeaseWriter(Protocol):
    """Renews worker leases from a thread other than the registry's event loop.

    The room worker's lease keeper (rooms/worker/lease.py) renews from a thread
    of its own, so that a saturated event loop does not cost the worker its lease.
    """

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        """Blocking twin of ``Registry.heartbeat``, safe to call from any thread."""


def web_id_of(channel: str) -> str:
    """The web process a consumer's channel name belongs to.

    Layers name process-specific channels ``<prefix>.<process id>!<channel id>``,
    so everything before ``!`` is shared by one process's consumers.
    """
    return channel.partition("!")[0]


def least_loaded(workers: list[WorkerStatus]) -> WorkerStatus | None:
    """The worker with the lowest load; ties broken at random to spread rooms."""
    if not workers:
        return None
    lowest = min(status.load for status in workers)
    return random.choice([status for status in workers if status.load == lowest])
