"""PeerChannel while the channel layer's Redis is unreachable: refusals, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from rooms import messages
from rooms.layers import LayerUnavailable
from rooms.messages import JoinRefusal
from rooms.phoenix import JOIN_PENDING, JoinError, PhoenixError, TerminateReason
from rooms.phoenix.channel import JoinState
from rooms.phoenix.errors import ErrorCode
from rooms.registry.base import WorkerRef
from rooms.roomtypes import JoinRefused
from rooms.web.peer_channel import PeerChannel
from tests.phoenix.fakes import FakeHost, FakeServices

OWNER = WorkerRef(worker_id="w1", channel="roomworker.one")


class SwitchableLayer(InMemoryChannelLayer):
    """An in-memory layer that fails as the Redis layer does while ``down``."""

    def __init__(self) -> None:
        super().__init__(capacity=1000)
        self.down = False

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self.down:
            raise LayerUnavailable("channel layer send: Error 111")
        await super().send(channel, message)

    async def group_add(self, group: str, channel: str) -> None:
        if self.down:
            raise LayerUnavailable("channel layer group_add: Error 111")
        await super().group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        if self.down:
            raise LayerUnavailable("channel layer group_discard: Error 111")
        await super().group_discard(group, channel)


class UnreachableServices(FakeServices):
    async def claim(self, room: str) -> WorkerRef | None:
        raise JoinRefused(JoinRefusal.UNAVAILABLE)


def make_channel(services: FakeServices | None = None) -> tuple[PeerChannel, FakeHost]:
    host = FakeHost()
    host.channel_layer = SwitchableLayer()
    channel = PeerChannel("room:alpha", "1", host)
    channel.services = services or FakeServices([OWNER])
    return channel, host


async def joined_channel() -> tuple[PeerChannel, FakeHost]:
    channel, host = make_channel()
    assert await channel.join({"displayName": "Ann"}) is JOIN_PENDING
    await host.receive(OWNER.channel)
    await channel.handle_info(messages.peer_joined("alpha", channel.peer_id))
    return channel, host


async def test_media_event_while_the_layer_is_down_is_answered_unavailable_and_the_channel_stays() -> (
    None
):
    channel, host = await joined_channel()
    layer: SwitchableLayer = host.channel_layer

    layer.down = True
    with pytest.raises(PhoenixError) as refused:
        await channel.handle_in("mediaEvent", {"data": '{"type":"custom"}'})
    assert refused.value.code == ErrorCode.UNAVAILABLE
    assert channel.state is JoinState.JOINED

    layer.down = False
    await channel.handle_in("mediaEvent", {"data": '{"type":"custom"}'})
    assert (await host.receive(OWNER.channel))["type"] == "room.media_event"
    await channel.terminate(TerminateReason.CLOSED)


async def test_join_while_the_layer_is_down_is_refused_as_unavailable_without_a_timer() -> None:
    channel, host = make_channel()
    host.channel_layer.down = True

    with pytest.raises(JoinError) as refused:
        await channel.join({"displayName": "Ann"})

    assert refused.value.reason == JoinRefusal.UNAVAILABLE
    assert host.timers == {}


async def test_join_whose_claim_cannot_reach_the_registry_is_refused_as_unavailable() -> None:
    channel, _ = make_channel(UnreachableServices([OWNER]))

    with pytest.raises(JoinError) as refused:
        await channel.join({"displayName": "Ann"})

    assert refused.value.reason == JoinRefusal.UNAVAILABLE


async def test_terminate_while_the_layer_is_down_completes() -> None:
    channel, host = await joined_channel()
    host.channel_layer.down = True

    await channel.terminate(TerminateReason.CLOSED)

    assert channel.services.unwatched == [channel.peer_id]  # type: ignore[attr-defined]


async def test_peer_joined_while_the_layer_is_down_still_joins() -> None:
    channel, host = make_channel()
    await channel.join({"displayName": "Ann"})
    await host.receive(OWNER.channel)
    host.channel_layer.down = True

    await channel.handle_info(messages.peer_joined("alpha", channel.peer_id))

    assert host.join_replies and host.join_replies[0][1] == ""
    await channel.terminate(TerminateReason.CLOSED)


def test_the_user_socket_names_the_redis_layers_outage_for_its_timers() -> None:
    """rooms/phoenix knows no layer: the application's socket says which failure to wait out."""
    from rooms.web.sockets import UserSocket

    assert LayerUnavailable in UserSocket.layer_unavailable
