"""The registry for the embedded default: one process, one event loop, no Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from rooms.registry.base import LivePeer, WorkerRef, WorkerStatus, least_loaded


class LocalRegistry:
    """Same semantics as RedisRegistry, held in dictionaries.

    Every method runs to completion without awaiting, so on one event loop each
    call is atomic, which is what makes ``claim_room`` race-free here. Worker
    leases are also renewed from the lease keeper's thread (``renew_lease``), so
    they alone sit behind a lock.
    """

    def __init__(self) -> None:
        self._lease_lock = threading.Lock()
        self._leases: dict[str, tuple[WorkerRef, int, float]] = {}
        self._owners: dict[str, str] = {}
        self._peers: dict[str, list[LivePeer]] = {}
        self._web: dict[str, float] = {}

    def _live(self) -> dict[str, tuple[WorkerRef, int, float]]:
        now = time.monotonic()
        with self._lease_lock:
            return {wid: lease for wid, lease in self._leases.items() if lease[2] > now}

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        # ``rooms`` restores owners that Redis lost; this registry loses nothing, and its
        # owners are the loop's alone (this may run on the lease keeper's thread).
        with self._lease_lock:
            self._leases[ref.worker_id] = (ref, load, time.monotonic() + lease_seconds)

    async def heartbeat(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        self.renew_lease(ref, load, lease_seconds)

    async def unregister(self, ref: WorkerRef) -> None:
        with self._lease_lock:
            self._leases.pop(ref.worker_id, None)

    async def live_workers(self) -> list[WorkerStatus]:
        return [WorkerStatus(ref, load) for ref, load, _ in self._live().values()]

    async def heartbeat_web(self, web_ids: Iterable[str], lease_seconds: float) -> None:
        expiry = time.monotonic() + lease_seconds
        for web_id in web_ids:
            self._web[web_id] = expiry

    async def alive_web(self, web_ids: Iterable[str]) -> set[str]:
        now = time.monotonic()
        return {web_id for web_id in web_ids if self._web.get(web_id, 0.0) > now}

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        live = self._live()
        return {wid for wid in worker_ids if wid in live}

    async def claim_room(self, room: str) -> WorkerRef | None:
        live = self._live()
        current = self._owners.get(room)
        if current in live:
            return live[current][0]
        chosen = least_loaded([WorkerStatus(ref, load) for ref, load, _ in live.values()])
        if chosen is None:
            return None
        self._owners[room] = chosen.ref.worker_id
        return chosen.ref

    async def owner(self, room: str) -> WorkerRef | None:
        current = self._owners.get(room)
        lease = self._live().get(current) if current else None
        return lease[0] if lease else None

    async def release_room(self, room: str, ref: WorkerRef) -> None:
        if self._owners.get(room) == ref.worker_id:
            del self._owners[room]
            self._peers.pop(room, None)

    async def restore_room(self, room: str, ref: WorkerRef) -> bool:
        return self._owners.setdefault(room, ref.worker_id) == ref.worker_id

    async def set_live_peers(self, room: str, peers: list[LivePeer]) -> None:
        self._peers[room] = list(peers)

    async def live_peers(self, room: str) -> list[LivePeer]:
        return list(self._peers.get(room, [])) if await self.owner(room) else []

    async def live_rooms(self) -> list[str]:
        live = self._live()
        return sorted(room for room, wid in self._owners.items() if wid in live)

    async def close(self) -> None:
        return None
