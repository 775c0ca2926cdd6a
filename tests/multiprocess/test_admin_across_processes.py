"""Admin kick and close reach peers held by other processes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from channels_redis.core import RedisChannelLayer

from rooms import admin_actions
from rooms.names import topic_for
from rooms.registry.redis import RedisRegistry
from tests.multiprocess.admin_http import AdminSession
from tests.multiprocess.client import PhoenixSocket, ok
from tests.multiprocess.conftest import OpenSockets
from tests.multiprocess.probe import Probe, Stay, eventually
from tests.support.cluster import ADMIN_PASSWORD, ADMIN_USERNAME, Cluster

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]

# After a kick, how long the others are watched for a stray close.
QUIET_SECONDS = 2.0


@pytest.fixture
async def admin(cluster: Cluster) -> AdminSession:
    """The superuser, logged in to the admin of the first daphne."""
    session = AdminSession(cluster.webs[0].http_url)
    await asyncio.to_thread(session.login, ADMIN_USERNAME, ADMIN_PASSWORD)
    return session


@pytest.fixture
async def layer(cluster: Cluster) -> AsyncIterator[RedisChannelLayer]:
    """The cluster's channel layer, as a web process configures it."""
    redis_layer = RedisChannelLayer(
        hosts=[{"address": cluster.redis_url, "socket_timeout": 30}], prefix=cluster.prefix
    )
    yield redis_layer
    await redis_layer.close_pools()


def _room_pk(cluster: Cluster, room: str) -> int:
    with sqlite3.connect(cluster.db_path, timeout=20) as db:
        row = db.execute("SELECT id FROM rooms_room WHERE name = ?", (room,)).fetchone()
    assert row is not None, f"no Room row for {room}"
    return int(row[0])


async def _full_room(
    open_sockets: OpenSockets, probe: Probe, room: str, count: int
) -> list[PhoenixSocket]:
    sockets = await open_sockets(count)
    replies = await asyncio.gather(
        *(s.join(topic_for(room), f"user{i}") for i, s in enumerate(sockets))
    )
    assert all(ok(reply) for reply in replies), replies
    await eventually(lambda: len(probe.stays(room)) == count, what="participations recorded")
    return sockets


def _closed_with(stays: list[Stay], reasons: list[str]) -> list[Stay] | None:
    return stays if sorted(s.leave_reason for s in stays if s.left_at) == sorted(reasons) else None


async def test_admin_pages_kick_one_participant_then_close_the_room(
    cluster: Cluster,
    open_sockets: OpenSockets,
    registry: RedisRegistry,
    probe: Probe,
    admin: AdminSession,
    room_name: str,
) -> None:
    topic = topic_for(room_name)
    sockets = await _full_room(open_sockets, probe, room_name, 3)
    target, *others = sockets
    await eventually(
        lambda: _live_count(registry, room_name, 3), what="three live peers in the registry"
    )
    pk = _room_pk(cluster, room_name)

    changelist = await asyncio.to_thread(admin.get, f"/admin/rooms/room/?q={room_name}")
    assert '<td class="field-live_participants">3</td>' in changelist
    page = await asyncio.to_thread(admin.get, f"/admin/rooms/room/{pk}/change/")
    assert "Live participants (3)" in page
    for socket in sockets:
        assert socket.peer_ids[topic] in page

    await asyncio.to_thread(
        admin.post, f"/admin/rooms/room/{pk}/kick/", {"peer_id": target.peer_ids[topic]}
    )
    await target.wait_frame(topic, "phx_close")
    await asyncio.sleep(QUIET_SECONDS)
    for socket in others:
        assert socket.still_joined(topic)
    live = await eventually(lambda: _live_count(registry, room_name, 2), what="two live peers")
    assert target.peer_ids[topic] not in {p.peer_id for p in live}

    page = await asyncio.to_thread(admin.get, f"/admin/rooms/room/{pk}/change/")
    assert "Live participants (2)" in page
    await asyncio.to_thread(admin.post, f"/admin/rooms/room/{pk}/close-room/", {})
    await asyncio.gather(*(s.wait_frame(topic, "phx_close") for s in others))
    await eventually(
        lambda: _closed_with(probe.stays(room_name), ["kicked", "room_closed", "room_closed"]),
        what="stays closed as kicked and room_closed",
    )
    await eventually(
        lambda: not probe.exists(probe.owner_key(room_name)), what="the closed room released"
    )


async def test_close_from_another_process_closes_every_channel(
    cluster: Cluster,
    open_sockets: OpenSockets,
    registry: RedisRegistry,
    layer: RedisChannelLayer,
    probe: Probe,
    room_name: str,
) -> None:
    topic = topic_for(room_name)
    sockets = await _full_room(open_sockets, probe, room_name, 4)
    assert {s.name.split("@")[1] for s in sockets} == {"web1", "web2"}

    assert await admin_actions.close_room(room_name, registry=registry, layer=layer)
    await asyncio.gather(*(s.wait_frame(topic, "phx_close") for s in sockets))
    await eventually(
        lambda: _closed_with(probe.stays(room_name), ["room_closed"] * 4),
        what="stays closed as room_closed",
    )
    await eventually(lambda: room_name not in _sync_rooms(probe), what="room no longer live")
    assert not await admin_actions.close_room(room_name, registry=registry, layer=layer)


async def test_kick_from_another_process_of_a_peer_not_in_the_room_is_refused(
    open_sockets: OpenSockets,
    registry: RedisRegistry,
    layer: RedisChannelLayer,
    probe: Probe,
    room_name: str,
) -> None:
    topic = topic_for(room_name)
    sockets = await _full_room(open_sockets, probe, room_name, 2)
    await eventually(lambda: _live_count(registry, room_name, 2), what="two live peers")
    with pytest.raises(admin_actions.UnknownParticipant):
        await admin_actions.kick_participant(
            room_name, "notInThisRoom", registry=registry, layer=layer
        )
    await asyncio.sleep(QUIET_SECONDS)
    for socket in sockets:
        assert socket.still_joined(topic)


async def _live_count(registry: RedisRegistry, room: str, count: int) -> list | None:
    live = await registry.live_peers(room)
    return live if len(live) == count else None


def _sync_rooms(probe: Probe) -> set[str]:
    prefix = f"{probe.cluster.prefix}:owner:room."
    return {key[len(prefix) :] for key in probe.redis.scan_iter(match=prefix + "*")}
