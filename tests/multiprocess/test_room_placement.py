"""Many sockets on several web processes joining one new room end in one Room."""

from __future__ import annotations

import asyncio

import pytest

from rooms.names import topic_for
from rooms.registry.redis import RedisRegistry
from tests.multiprocess.client import ok
from tests.multiprocess.conftest import OpenSockets
from tests.multiprocess.probe import Probe, Stay, eventually

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]

CROWD = 20


async def test_twenty_concurrent_joins_across_two_daphnes_end_in_one_room(
    open_sockets: OpenSockets, registry: RedisRegistry, probe: Probe, room_name: str
) -> None:
    topic = topic_for(room_name)
    sockets = await open_sockets(CROWD)
    assert {s.name.split("@")[1] for s in sockets} == {"web1", "web2"}
    replies = await asyncio.gather(*(s.join(topic, f"guest {i}") for i, s in enumerate(sockets)))
    assert all(ok(reply) for reply in replies), replies
    peer_ids = {s.peer_ids[topic] for s in sockets}
    assert len(peer_ids) == CROWD

    owner = await registry.owner(room_name)
    assert owner is not None
    live = await eventually(
        lambda: _peers_if_all(registry, room_name, peer_ids), what="20 live peers"
    )
    assert {p.peer_id for p in live} == peer_ids
    # Exactly one Room was ever created, on the owner; the other worker hosts nothing.
    created = probe.rooms_created(room_name)
    assert created[owner.worker_id] == 1
    assert sum(created.values()) == 1
    assert probe.exists(probe.owner_key(room_name))


async def _peers_if_all(registry: RedisRegistry, room: str, peer_ids: set[str]) -> list | None:
    live = await registry.live_peers(room)
    return live if {p.peer_id for p in live} == peer_ids else None


async def _loads(registry: RedisRegistry) -> dict[str, int]:
    return {status.ref.worker_id: status.load for status in await registry.live_workers()}


async def test_new_rooms_go_to_the_least_loaded_live_worker(
    open_sockets: OpenSockets, registry: RedisRegistry, room_name: str
) -> None:
    # Earlier tests' peers leave asynchronously after their sockets close; a load that
    # is still falling would change which worker is the lighter one mid-test.
    before = await eventually(
        lambda: _loads_if_idle(registry), what="both workers idle after earlier tests"
    )
    assert len(before) == 2
    # Make the loads differ by three peers in one room, wherever it lands.
    busy_topic = topic_for(f"{room_name}-busy")
    busy = await open_sockets(3)
    assert all(ok(r) for r in await asyncio.gather(*(s.join(busy_topic, "b") for s in busy)))
    busy_owner = await registry.owner(f"{room_name}-busy")
    assert busy_owner is not None
    expected_load = before[busy_owner.worker_id] + 3
    loads = await eventually(
        lambda: _load_reached(registry, busy_owner.worker_id, expected_load),
        what="the busy worker's load in its lease",
    )
    lightest = min(loads, key=loads.__getitem__)
    assert loads[lightest] < min(load for wid, load in loads.items() if wid != lightest)

    # Two new rooms, one after the other: both go to the lighter worker (1 < 3 peers).
    for suffix in ("a", "b"):
        (socket,) = await open_sockets(1)
        assert ok(await socket.join(topic_for(f"{room_name}-{suffix}"), suffix))
        owner = await registry.owner(f"{room_name}-{suffix}")
        assert owner is not None
        assert owner.worker_id == lightest


async def _loads_if_idle(registry: RedisRegistry) -> dict[str, int] | None:
    loads = await _loads(registry)
    return loads if len(loads) == 2 and not any(loads.values()) else None


async def _load_reached(
    registry: RedisRegistry, worker_id: str, load: int
) -> dict[str, int] | None:
    loads = await _loads(registry)
    return loads if loads.get(worker_id) == load else None


async def test_last_peer_leaving_tears_the_room_down_everywhere(
    open_sockets: OpenSockets, registry: RedisRegistry, probe: Probe, room_name: str
) -> None:
    topic = topic_for(room_name)
    first, second = await open_sockets(2)
    assert ok(await first.join(topic, "Ann"))
    assert ok(await second.join(topic, "Bob"))
    owner = await registry.owner(room_name)
    assert owner is not None
    await eventually(lambda: len(probe.stays(room_name)) == 2, what="two participation rows")
    assert probe.exists(probe.owner_key(room_name))

    # One leaves with phx_leave, the other by closing its socket.
    assert (await first.leave(topic))[4]["status"] == "ok"
    await asyncio.sleep(0.5)
    assert probe.exists(probe.owner_key(room_name)), "torn down while a peer was still in"
    await second.close()

    await eventually(
        lambda: (
            not probe.exists(probe.owner_key(room_name))
            and not probe.exists(probe.peers_key(room_name))
        ),
        what="owner and live-peer keys deleted",
    )
    stays = await eventually(
        lambda: _all_closed(probe.stays(room_name)), what="every participation closed"
    )
    assert sorted(s.leave_reason for s in stays) == ["disconnected", "left"]
    assert room_name not in await registry.live_rooms()
    assert (
        f"room {room_name} torn down on worker {owner.worker_id}"
        in probe.cluster.worker(owner.worker_id).log()
    )


def _all_closed(stays: list[Stay]) -> list[Stay] | None:
    return stays if stays and all(s.left_at for s in stays) else None
