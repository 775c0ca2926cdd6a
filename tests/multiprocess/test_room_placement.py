"""Many sockets on several web processes joining one new room end in one Room."""

from __future__ import annotations

import asyncio

import pytest

from rooms.names import topic_for
from rooms.registry.redis import RedisRegistry
from tests.multiprocess.client import ok
from tests.multiprocess.conftest import OpenSockets
from tests.multiprocess.probe import Probe, eventually

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
