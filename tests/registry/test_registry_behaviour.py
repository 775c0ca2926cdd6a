"""Registry behaviour shared by LocalRegistry and RedisRegistry (see conftest.registry)."""

from __future__ import annotations

import asyncio

from rooms.registry.base import LeaseWriter, LivePeer, Registry, WorkerRef, web_id_of

LONG_LEASE = 60.0
ANN = LivePeer("peer-ann", "Ann", "2026-01-01T10:00:00+00:00")
BOB = LivePeer("peer-bob", "Bob", "2026-01-01T10:00:05+00:00")


def worker(name: str) -> WorkerRef:
    return WorkerRef(worker_id=name, channel=f"roomworker.{name}!chan")


async def test_worker_lease_lapses_after_its_duration(registry: Registry) -> None:
    a = worker("a")
    await registry.heartbeat(a, 0, 1.0)
    assert await registry.alive(["a"]) == {"a"}
    assert [s.ref for s in await registry.live_workers()] == [a]
    await asyncio.sleep(2.0)
    assert await registry.alive(["a"]) == set()
    assert await registry.live_workers() == []


async def test_heartbeat_extends_the_lease_and_updates_load(registry: Registry) -> None:
    a = worker("a")
    # Sleeps leave 0.8 s of slack either way for a loaded machine.
    await registry.heartbeat(a, 0, 2.0)
    await asyncio.sleep(1.2)
    await registry.heartbeat(a, 7, 2.0)
    await asyncio.sleep(1.2)
    statuses = await registry.live_workers()
    assert [(s.ref, s.load) for s in statuses] == [(a, 7)]


async def test_a_lease_renewed_from_another_thread_is_seen_with_its_load(
    registry: Registry, lease_writer: LeaseWriter
) -> None:
    a = worker("a")
    await registry.heartbeat(a, 0, 2.0)
    await asyncio.sleep(1.2)
    await asyncio.to_thread(lease_writer.renew_lease, a, 5, 2.0)
    await asyncio.sleep(1.2)
    statuses = await registry.live_workers()
    assert [(s.ref, s.load) for s in statuses] == [(a, 5)]
    await registry.unregister(a)
    assert await registry.alive(["a"]) == set()


async def test_unregister_ends_the_lease_at_once(registry: Registry) -> None:
    a = worker("a")
    await registry.heartbeat(a, 0, LONG_LEASE)
    await registry.unregister(a)
    assert await registry.alive(["a"]) == set()


async def test_claim_with_no_live_worker_returns_none(registry: Registry) -> None:
    assert await registry.claim_room("lonely") is None
    assert await registry.owner("lonely") is None


async def test_claim_picks_the_least_loaded_live_worker(registry: Registry) -> None:
    await registry.heartbeat(worker("busy"), 9, LONG_LEASE)
    await registry.heartbeat(worker("idle"), 1, LONG_LEASE)
    await registry.heartbeat(worker("mid"), 4, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("idle")
    assert await registry.owner("r1") == worker("idle")


async def test_claim_ignores_a_lower_loaded_worker_whose_lease_lapsed(registry: Registry) -> None:
    await registry.heartbeat(worker("ghost"), 0, 0.3)
    await registry.heartbeat(worker("live"), 5, LONG_LEASE)
    await asyncio.sleep(0.8)
    assert await registry.claim_room("r1") == worker("live")


async def test_claim_keeps_a_live_owner_even_when_others_are_less_loaded(
    registry: Registry,
) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("a")
    await registry.heartbeat(worker("a"), 50, LONG_LEASE)
    await registry.heartbeat(worker("b"), 0, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("a")


async def test_fifty_concurrent_claims_all_return_the_same_owner(registry: Registry) -> None:
    # Equal loads: a non-atomic claim would pick different workers at random.
    for name in "abcde":
        await registry.heartbeat(worker(name), 0, LONG_LEASE)
    # Open 50 Redis connections first: otherwise the first claim finishes while the
    # others are still connecting, and the race never happens.
    await asyncio.gather(*(registry.live_workers() for _ in range(50)))
    owners = await asyncio.gather(*(registry.claim_room("race") for _ in range(50)))
    assert len(set(owners)) == 1
    assert owners[0] is not None
    assert await registry.owner("race") == owners[0]


async def test_a_dead_owner_is_replaced_on_claim(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("a")
    await registry.heartbeat(worker("b"), 3, LONG_LEASE)
    await registry.unregister(worker("a"))
    assert await registry.owner("r1") is None
    assert await registry.claim_room("r1") == worker("b")
    assert await registry.owner("r1") == worker("b")


async def test_an_owner_whose_lease_lapsed_is_replaced_on_claim(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, 1.0)
    assert await registry.claim_room("r1") == worker("a")
    await registry.heartbeat(worker("b"), 3, LONG_LEASE)
    await asyncio.sleep(2.0)
    assert await registry.claim_room("r1") == worker("b")


async def test_release_by_a_non_owner_changes_nothing(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    await registry.heartbeat(worker("b"), 5, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("a")
    await registry.set_live_peers("r1", [ANN, BOB])
    await registry.release_room("r1", worker("b"))
    assert await registry.owner("r1") == worker("a")
    assert await registry.live_peers("r1") == [ANN, BOB]


async def test_release_by_the_owner_forgets_owner_and_live_peers(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    assert await registry.claim_room("r1") == worker("a")
    await registry.set_live_peers("r1", [ANN])
    await registry.release_room("r1", worker("a"))
    assert await registry.owner("r1") is None
    assert await registry.live_peers("r1") == []
    assert await registry.live_rooms() == []


async def test_live_peers_round_trip_in_order(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    await registry.claim_room("r1")
    await registry.set_live_peers("r1", [BOB, ANN])
    assert await registry.live_peers("r1") == [BOB, ANN]
    await registry.set_live_peers("r1", [ANN])
    assert await registry.live_peers("r1") == [ANN]


async def test_live_peers_of_a_room_whose_owner_died_are_empty(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    await registry.claim_room("r1")
    await registry.set_live_peers("r1", [ANN])
    await registry.unregister(worker("a"))
    assert await registry.live_peers("r1") == []


async def test_live_rooms_leave_out_rooms_of_dead_owners(registry: Registry) -> None:
    await registry.heartbeat(worker("a"), 0, LONG_LEASE)
    assert await registry.claim_room("on-a") == worker("a")
    await registry.heartbeat(worker("b"), 0, LONG_LEASE)
    await registry.heartbeat(worker("a"), 10, LONG_LEASE)
    assert await registry.claim_room("on-b") == worker("b")
    assert await registry.live_rooms() == ["on-a", "on-b"]
    await registry.unregister(worker("a"))
    assert await registry.live_rooms() == ["on-b"]


async def test_web_process_leases_lapse_unless_refreshed(registry: Registry) -> None:
    await registry.heartbeat_web(["web-a", "web-b"], 2.0)
    assert await registry.alive_web(["web-a", "web-b", "web-c"]) == {"web-a", "web-b"}
    await asyncio.sleep(1.2)
    await registry.heartbeat_web(["web-a"], 2.0)
    await asyncio.sleep(1.2)
    assert await registry.alive_web(["web-a", "web-b"]) == {"web-a"}
    assert await registry.alive_web([]) == set()


def test_web_id_is_the_process_part_of_a_channel_name() -> None:
    first = "specific.3f2a!abc"
    second = "specific.3f2a!def"
    assert web_id_of(first) == web_id_of(second) == "specific.3f2a"
    assert web_id_of("specific.other!abc") != web_id_of(first)


async def test_restore_room_records_an_owner_only_for_a_room_without_one(
    registry: Registry,
) -> None:
    a, b = worker("a"), worker("b")
    await registry.heartbeat(a, 0, LONG_LEASE)
    await registry.heartbeat(b, 0, LONG_LEASE)

    assert await registry.restore_room("lost", a)
    assert await registry.owner("lost") == a
    assert await registry.restore_room("lost", a)
    assert not await registry.restore_room("lost", b)
    assert await registry.owner("lost") == a
