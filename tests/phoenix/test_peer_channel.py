"""PeerChannel without a socket: a fake host, fake services and an in-memory layer."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from django.conf import settings as django_settings

from rooms import messages
from rooms.ice import ice_servers
from rooms.limits import Limits
from rooms.messages import JoinRefusal, RemovalReason
from rooms.phoenix import JOIN_PENDING, InvalidPayload, JoinError, StopKind, TerminateReason
from rooms.phoenix.errors import UnknownEvent
from rooms.registry.base import WorkerRef
from rooms.web.peer_channel import PeerChannel, parse_join_params
from tests.phoenix.fakes import FakeHost, FakeServices

OWNER = WorkerRef(worker_id="w1", channel="roomworker.one")
OTHER_OWNER = WorkerRef(worker_id="w2", channel="roomworker.two")


def make_channel(
    topic: str = "room:alpha", owners: list[WorkerRef | None] | None = None
) -> tuple[PeerChannel, FakeHost, FakeServices]:
    host = FakeHost()
    services = FakeServices(owners if owners is not None else [OWNER])
    channel = PeerChannel(topic, "1", host)
    channel.services = services
    return channel, host, services


async def joined_channel() -> tuple[PeerChannel, FakeHost, FakeServices]:
    channel, host, services = make_channel()
    assert await channel.join({"displayName": "Ann"}) is JOIN_PENDING
    await host.receive(OWNER.channel)
    await channel.handle_info(messages.peer_joined("alpha", channel.peer_id))
    return channel, host, services


@pytest.fixture
def short_join_timeout(settings: Any) -> None:
    settings.VIDEOROOM = {**django_settings.VIDEOROOM, "JOIN_TIMEOUT_SECONDS": 0.3}


async def test_join_sends_room_join_to_the_claimed_owner_and_stays_pending() -> None:
    channel, host, _ = make_channel()
    params = {"displayName": "  Ann ", "metadata": {"color": "red"}, "isSimulcastOn": True}

    result = await channel.join(params)

    assert result is JOIN_PENDING
    sent = await host.receive(OWNER.channel)
    assert sent == messages.room_join(
        "alpha", channel.peer_id, host.channel_name, {"displayName": "Ann", "color": "red"}, 5
    )
    assert host.join_replies == []
    await channel.terminate(TerminateReason.CLOSED)


async def test_peer_joined_replies_ok_with_peer_id_and_ice_servers_and_watches_the_owner() -> None:
    channel, host, services = await joined_channel()

    expected = {
        "peerId": channel.peer_id,
        "iceServers": ice_servers(channel.peer_id),
        "grants": ["publish", "subscribe"],
    }
    assert host.join_replies == [(expected, "")]
    assert services.watches == {channel.peer_id: OWNER}
    assert host.channel_name in host.channel_layer.groups["room.alpha"]
    await channel.terminate(TerminateReason.CLOSED)


async def test_join_refused_by_the_room_replies_its_reason() -> None:
    channel, host, _ = make_channel()
    await channel.join({"displayName": "Ann"})
    await channel.handle_info(
        messages.peer_join_refused("alpha", channel.peer_id, JoinRefusal.FULL)
    )
    assert host.join_replies == [(None, "room full")]


async def test_refusal_with_retry_claims_again_and_joins_the_new_owner_once() -> None:
    channel, host, services = make_channel(owners=[OWNER, OTHER_OWNER])
    await channel.join({"displayName": "Ann"})
    refusal = messages.peer_join_refused(
        "alpha", channel.peer_id, JoinRefusal.UNAVAILABLE, retry=True
    )

    await channel.handle_info(refusal)
    assert (await host.receive(OTHER_OWNER.channel))["type"] == "room.join"
    assert host.join_replies == []
    await channel.handle_info(refusal)

    assert services.claims == 2
    assert host.join_replies == [(None, "room unavailable")]


async def test_join_without_a_live_worker_is_refused_as_unavailable() -> None:
    channel, _, _ = make_channel(owners=[None])
    with pytest.raises(JoinError) as refused:
        await channel.join({"displayName": "Ann"})
    assert refused.value.reason == "room unavailable"


@pytest.mark.usefixtures("short_join_timeout")
async def test_unanswered_join_times_out_as_unavailable_and_tells_the_owner_to_forget() -> None:
    channel, host, _ = make_channel()
    await channel.join({"displayName": "Ann"})
    await host.receive(OWNER.channel)

    leave = await host.receive(OWNER.channel, timeout=10)

    assert leave == messages.room_leave("alpha", channel.peer_id, RemovalReason.DISCONNECTED)
    assert host.join_replies == [(None, "room unavailable")]
    # A late answer changes nothing.
    await channel.handle_info(messages.peer_joined("alpha", channel.peer_id))
    assert len(host.join_replies) == 1


@pytest.mark.parametrize(
    ("topic", "refusal"),
    [("room:bad name", "invalid room name"), ("room:", "invalid room name")],
)
async def test_join_of_a_bad_topic_is_refused(topic: str, refusal: str) -> None:
    channel, _, services = make_channel(topic)
    with pytest.raises(JoinError) as refused:
        await channel.join({"displayName": "Ann"})
    assert refused.value.reason == refusal
    assert services.claims == 0


@pytest.mark.parametrize(
    "params",
    [
        {"displayName": None, "metadata": 1},
        {"displayName": ""},
        {"displayName": "   "},
        {"displayName": 7},
        {"displayName": "x" * 65},
        {"displayName": "Ann", "metadata": []},
        {"displayName": "Ann", "metadata": {"blob": "x" * 5000}},
    ],
)
async def test_join_with_invalid_params_is_refused(params: dict[str, Any]) -> None:
    channel, _, services = make_channel()
    with pytest.raises(JoinError) as refused:
        await channel.join(params)
    assert refused.value.reason == "invalid params"
    assert services.claims == 0


def test_validated_display_name_wins_over_one_in_metadata() -> None:
    metadata = parse_join_params({"displayName": "Ann", "metadata": {"displayName": ""}})
    assert metadata == {"displayName": "Ann"}


def test_join_without_params_is_accepted_without_a_name() -> None:
    # The Membrane videoroom's room.ts: socket.channel("room:" + id) with no params.
    assert parse_join_params({}) == {}
    assert parse_join_params({"metadata": {"displayName": "smuggled", "x": 1}}) == {"x": 1}


@pytest.mark.parametrize("refusal", [JoinRefusal.NOT_FOUND, JoinRefusal.LOCKED])
async def test_join_refused_by_the_database_replies_its_reason(refusal: JoinRefusal) -> None:
    channel, _, services = make_channel()
    services.refusals["alpha"] = refusal
    with pytest.raises(JoinError) as refused:
        await channel.join({"displayName": "Ann"})
    assert refused.value.reason == refusal.value


async def test_media_event_goes_to_the_owner_without_reply() -> None:
    channel, host, _ = await joined_channel()

    reply = await channel.handle_in("mediaEvent", {"data": '{"type":"connect"}'})

    assert reply is None
    assert await host.receive(OWNER.channel) == messages.room_media_event(
        "alpha", channel.peer_id, '{"type":"connect"}'
    )
    await channel.terminate(TerminateReason.CLOSED)


async def test_an_offer_sized_media_event_goes_to_the_owner() -> None:
    # ~200 KB: an SDP offer in a room of 20 (one m-line per remote track).
    data = json.dumps({"type": "custom", "data": {"sdp": "a=x\r\n" * 25_000}})
    channel, host, _ = await joined_channel()

    await channel.handle_in("mediaEvent", {"data": data})

    assert await host.receive(OWNER.channel) == messages.room_media_event(
        "alpha", channel.peer_id, data
    )
    await channel.terminate(TerminateReason.CLOSED)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"data": 5},
        {"data": {"type": "connect"}},
        {"data": "x" * (Limits().media_event_bytes + 1)},
    ],
)
async def test_media_event_with_bad_data_is_an_invalid_payload(payload: dict[str, Any]) -> None:
    channel, _, _ = await joined_channel()
    with pytest.raises(InvalidPayload):
        await channel.handle_in("mediaEvent", payload)
    await channel.terminate(TerminateReason.CLOSED)


async def test_other_events_are_unknown() -> None:
    channel, _, _ = await joined_channel()
    with pytest.raises(UnknownEvent):
        await channel.handle_in("shout", {})
    await channel.terminate(TerminateReason.CLOSED)


async def test_room_media_events_become_pushes_and_stale_ones_are_dropped() -> None:
    channel, host, _ = await joined_channel()

    await channel.handle_info(messages.peer_media_event("alpha", channel.peer_id, "hello"))
    await channel.handle_info(messages.peer_media_event("alpha", "an-old-peer-id", "stale"))

    assert host.pushes == [("mediaEvent", {"data": "hello"})]
    await channel.terminate(TerminateReason.CLOSED)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (RemovalReason.KICKED, StopKind.CLOSE),
        (RemovalReason.ROOM_CLOSED, StopKind.CLOSE),
        (RemovalReason.WORKER_LOST, StopKind.ERROR),
        (RemovalReason.MEDIA_FAILED, StopKind.ERROR),
        (RemovalReason.WORKER_SHUTDOWN, StopKind.ERROR),
    ],
)
async def test_removal_by_the_room_stops_the_channel_without_a_leave(
    reason: RemovalReason, kind: StopKind
) -> None:
    channel, host, services = await joined_channel()

    await channel.handle_info(messages.peer_removed("alpha", channel.peer_id, reason))

    assert host.stops == [kind]
    assert services.unwatched == [channel.peer_id]
    assert "room.alpha" not in host.channel_layer.groups
    with pytest.raises(asyncio.TimeoutError):
        await host.receive(OWNER.channel, timeout=0.2)


@pytest.mark.parametrize(
    ("why", "removal"),
    [
        (TerminateReason.LEAVE, RemovalReason.LEFT),
        (TerminateReason.CLOSED, RemovalReason.DISCONNECTED),
        (TerminateReason.DUPLICATE_JOIN, RemovalReason.REPLACED),
    ],
)
async def test_terminate_leaves_the_room_with_the_matching_reason(
    why: TerminateReason, removal: RemovalReason
) -> None:
    channel, host, services = await joined_channel()

    await channel.terminate(why)

    assert await host.receive(OWNER.channel) == messages.room_leave(
        "alpha", channel.peer_id, removal
    )
    assert services.unwatched == [channel.peer_id]
    assert "room.alpha" not in host.channel_layer.groups


async def test_terminate_during_a_pending_join_leaves_and_cancels_the_timer() -> None:
    channel, host, _ = make_channel()
    await channel.join({"displayName": "Ann"})
    await host.receive(OWNER.channel)

    await channel.terminate(TerminateReason.CLOSED)

    assert (await host.receive(OWNER.channel))["type"] == "room.leave"
    assert channel._timer is None
    await channel.handle_info(messages.peer_joined("alpha", channel.peer_id))
    assert host.join_replies == []


async def test_removal_before_the_join_is_answered_refuses_the_join_as_unavailable() -> None:
    channel, host, _ = make_channel()
    await channel.join({"displayName": "Ann"})
    await channel.handle_info(
        messages.peer_removed("alpha", channel.peer_id, RemovalReason.WORKER_SHUTDOWN)
    )
    assert host.join_replies == [(None, "room unavailable")]
    assert host.stops == []
    assert channel._timer is None


@pytest.mark.parametrize(
    "params",
    [
        {"displayName": "Ann\nBob"},
        {"displayName": "x" * 11},
        {"displayName": "Ann", "metadata": {"blob": "x" * 200}},
        {"displayName": "Ann", "metadata": {"é": "é" * 96}},  # 103 characters, 203 bytes
    ],
)
def test_join_params_are_bounded_by_the_configured_limits(params: dict[str, Any]) -> None:
    limits = dataclasses.replace(Limits(), display_name_chars=10, endpoint_metadata_bytes=200)
    with pytest.raises(ValueError):
        parse_join_params(params, limits)


def test_join_params_at_the_configured_limits_are_accepted() -> None:
    limits = dataclasses.replace(Limits(), display_name_chars=10, endpoint_metadata_bytes=200)
    metadata = parse_join_params({"displayName": " " + "x" * 10 + " "}, limits)
    assert metadata == {"displayName": "x" * 10}
