"""The registry on Redis, shared by every web and worker process.

Keys (``p`` is the configured prefix, ``g`` a room's group name ``room.<name>``):
``p:worker:<id>`` the worker's lease (JSON, expires), ``p:workers`` the set of
worker ids ever seen (pruned as leases lapse), ``p:owner:g`` the owner's worker
id, ``p:peers:g`` the live peers (JSON), ``p:web:<id>`` a web process's lease. Claims and releases are Lua scripts,
so each is one atomic step however many processes race.

RedisLeaseWriter writes the same worker lease over a blocking client, for the
worker's lease keeper thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from redis import Redis as BlockingRedis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from rooms.names import GROUP_PREFIX, group_for
from rooms.redis_target import RedisTarget, UrlTarget
from rooms.registry.base import LivePeer, WorkerRef, WorkerStatus, least_loaded

# Keep the current owner while its lease exists; otherwise install the candidate.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current and redis.call('EXISTS', ARGV[1] .. current) == 1 then
  return current
end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
"""

# Delete the owner and live-peer records only if ARGV[1] still owns the room.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""

# Install ARGV[1] as the owner only if the room has none; return the owner.
_RESTORE = """
local current = redis.call('GET', KEYS[1])
if current then
  return current
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""

# Write a worker's lease (KEYS[1], ARGV[1] for ARGV[2] ms) and list it (KEYS[2], ARGV[3]).
# If the lease was missing (Redis restarted empty, or it lapsed), first record the worker
# as the owner of each room it hosts (KEYS[3..]) that has no owner: one atomic step, so no
# process ever sees the worker live and its rooms ownerless, and a join meanwhile cannot
# claim one of them for another worker (a second Room of the same name). Never takes a
# room another worker owns.
_LEASE = """
local fresh = redis.call('EXISTS', KEYS[1]) == 0
if fresh then
  for i = 3, #KEYS do
    redis.call('SET', KEYS[i], ARGV[3], 'NX')
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return fresh and 1 or 0
"""

_CLAIM_ATTEMPTS = 3
# Connecting to a Redis host that does not answer gives up after this long.
_CONNECT_TIMEOUT_SECONDS = 2.0
# A lease write that takes longer than this is abandoned; the keeper tries again
# at its next renewal, a third of a lease later (2 s with the default 6 s lease).
_LEASE_WRITE_TIMEOUT_SECONDS = 2.0


def _worker_key(prefix: str, worker_id: str = "") -> str:
    return f"{prefix}:worker:{worker_id}"


def _workers_key(prefix: str) -> str:
    return f"{prefix}:workers"


def _lease_record(ref: WorkerRef, load: int) -> str:
    return json.dumps({"channel": ref.channel, "load": load})


class RedisRegistry:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._restore = client.register_script(_RESTORE)
        self._lease = client.register_script(_LEASE)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisRegistry:
        return cls.from_target(UrlTarget(url), prefix)

    @classmethod
    def from_target(cls, target: RedisTarget, prefix: str) -> RedisRegistry:
        client = target.async_client(
            decode_responses=True,
            # A call during a Redis outage fails at once (rooms.outage); after one, a
            # pooled connection that went stale is replaced and the call tried again.
            socket_connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            retry=AsyncRetry(NoBackoff(), 1),
        )
        return cls(client, prefix)

    def _worker_key(self, worker_id: str = "") -> str:
        return _worker_key(self._prefix, worker_id)

    def _owner_key(self, room: str) -> str:
        return f"{self._prefix}:owner:{group_for(room)}"

    def _peers_key(self, room: str) -> str:
        return f"{self._prefix}:peers:{group_for(room)}"

    async def heartbeat(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        keys, args = _lease_call(self._prefix, ref, load, lease_seconds, rooms)
        await self._lease(keys=keys, args=args)

    async def unregister(self, ref: WorkerRef) -> None:
        await self._redis.delete(self._worker_key(ref.worker_id))
        await self._redis.srem(_workers_key(self._prefix), ref.worker_id)

    async def _statuses(self, worker_ids: list[str]) -> dict[str, WorkerStatus]:
        if not worker_ids:
            return {}
        records = await self._redis.mget([self._worker_key(wid) for wid in worker_ids])
        statuses = {}
        for wid, record in zip(worker_ids, records, strict=True):
            if record is not None:
                data = json.loads(record)
                statuses[wid] = WorkerStatus(WorkerRef(wid, data["channel"]), int(data["load"]))
        return statuses

    async def live_workers(self) -> list[WorkerStatus]:
        known = sorted(str(wid) for wid in await self._redis.smembers(_workers_key(self._prefix)))
        statuses = await self._statuses(known)
        lapsed = [wid for wid in known if wid not in statuses]
        if lapsed:
            await self._redis.srem(_workers_key(self._prefix), *lapsed)
        return list(statuses.values())

    async def heartbeat_web(self, web_ids: Iterable[str], lease_seconds: float) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for web_id in web_ids:
                pipe.set(f"{self._prefix}:web:{web_id}", "1", px=int(lease_seconds * 1000))
            await pipe.execute()

    async def alive_web(self, web_ids: Iterable[str]) -> set[str]:
        ordered = sorted(set(web_ids))
        if not ordered:
            return set()
        found = await self._redis.mget([f"{self._prefix}:web:{web_id}" for web_id in ordered])
        return {web_id for web_id, value in zip(ordered, found, strict=True) if value is not None}

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        return set(await self._statuses(sorted(set(worker_ids))))

    async def claim_room(self, room: str) -> WorkerRef | None:
        for _ in range(_CLAIM_ATTEMPTS):
            current = await self.owner(room)
            if current is not None:
                return current
            candidate = least_loaded(await self.live_workers())
            if candidate is None:
                return None
            winner = await self._claim(
                keys=[self._owner_key(room)], args=[self._worker_key(), candidate.ref.worker_id]
            )
            winner = str(winner)
            statuses = await self._statuses([winner])
            if winner in statuses:
                return statuses[winner].ref
            # The winner's lease lapsed between the claim and this read: try again.
        return None

    async def owner(self, room: str) -> WorkerRef | None:
        raw = await self._redis.get(self._owner_key(room))
        if raw is None:
            return None
        worker_id = str(raw)
        status = (await self._statuses([worker_id])).get(worker_id)
        return status.ref if status else None

    async def release_room(self, room: str, ref: WorkerRef) -> None:
        await self._release(
            keys=[self._owner_key(room), self._peers_key(room)], args=[ref.worker_id]
        )

    async def restore_room(self, room: str, ref: WorkerRef) -> bool:
        owner = await self._restore(keys=[self._owner_key(room)], args=[ref.worker_id])
        return str(owner) == ref.worker_id

    async def set_live_peers(self, room: str, peers: list[LivePeer]) -> None:
        payload = [
            {"peer_id": p.peer_id, "display_name": p.display_name, "joined_at": p.joined_at}
            for p in peers
        ]
        await self._redis.set(self._peers_key(room), json.dumps(payload))

    async def live_peers(self, room: str) -> list[LivePeer]:
        if await self.owner(room) is None:
            return []
        raw = await self._redis.get(self._peers_key(room))
        return [LivePeer(**item) for item in json.loads(raw)] if raw else []

    async def live_rooms(self) -> list[str]:
        pattern = f"{self._prefix}:owner:{GROUP_PREFIX}*"
        keys = [key async for key in self._redis.scan_iter(match=pattern, count=500)]
        if not keys:
            return []
        owners = await self._redis.mget(keys)
        alive = await self.alive(str(owner) for owner in owners if owner)
        start = len(f"{self._prefix}:owner:{GROUP_PREFIX}")
        return sorted(
            key[start:] for key, owner in zip(keys, owners, strict=True) if owner in alive
        )

    async def close(self) -> None:
        await self._redis.aclose()


def _lease_call(
    prefix: str, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str]
) -> tuple[list[str], list[str | int]]:
    """The keys and arguments of the _LEASE script."""
    owners = [f"{prefix}:owner:{group_for(room)}" for room in rooms]
    keys = [_worker_key(prefix, ref.worker_id), _workers_key(prefix), *owners]
    return keys, [_lease_record(ref, load), int(lease_seconds * 1000), ref.worker_id]


class RedisLeaseWriter:
    """Writes worker leases as RedisRegistry.heartbeat does, over a blocking client.

    Meant for one thread (the lease keeper's). Each write gives up after
    ``_LEASE_WRITE_TIMEOUT_SECONDS`` without retrying, so the thread stays
    responsive to its stop and the next renewal is the retry.
    """

    def __init__(self, client: BlockingRedis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._lease = client.register_script(_LEASE)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisLeaseWriter:
        return cls.from_target(UrlTarget(url), prefix)

    @classmethod
    def from_target(cls, target: RedisTarget, prefix: str) -> RedisLeaseWriter:
        client = target.blocking_client(
            decode_responses=True,
            socket_timeout=_LEASE_WRITE_TIMEOUT_SECONDS,
            socket_connect_timeout=_LEASE_WRITE_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client, prefix)

    def renew_lease(
        self, ref: WorkerRef, load: int, lease_seconds: float, rooms: Sequence[str] = ()
    ) -> None:
        keys, args = _lease_call(self._prefix, ref, load, lease_seconds, rooms)
        self._lease(keys=keys, args=args)

    def close(self) -> None:
        self._redis.close()
