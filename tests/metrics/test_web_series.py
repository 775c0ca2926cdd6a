"""The web process's series follow what its sockets do (real ASGI app, FakeRooms)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from rooms.metrics import web
from tests.phoenix.client import PhoenixTestClient
from tests.phoenix.conftest import clean_layer, fake_rooms  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_rooms")]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def joined_channels() -> float:
    family = next(iter(web.JoinedChannels().collect()))
    return float(family.samples[0].value)


async def test_sockets_joins_and_refusals_are_counted() -> None:
    web.install()
    sockets = value("videoroom_web_sockets_open")
    ok = value("videoroom_web_joins_total", outcome="ok")
    invalid = value("videoroom_web_joins_total", outcome="invalid room name")
    replies = value("videoroom_web_join_reply_seconds_count")
    unmatched = value("videoroom_web_frames_refused_total", reason="unmatched_topic")
    bad_frames = value("videoroom_web_frames_refused_total", reason="invalid_frame")

    client = PhoenixTestClient()
    assert (await client.connect())[0]
    assert value("videoroom_web_sockets_open") == sockets + 1
    reply = await client.join("room:metrics-web", {"displayName": "Ann"})
    assert reply[4]["status"] == "ok"
    assert value("videoroom_web_joins_total", outcome="ok") == ok + 1
    assert joined_channels() == 1
    refused = await client.join("room:not a name!", {})
    assert refused[4]["status"] == "error"
    assert value("videoroom_web_joins_total", outcome="invalid room name") == invalid + 1
    assert value("videoroom_web_join_reply_seconds_count") == replies + 2

    await client.push("room:never-joined", "mediaEvent", {"data": "{}"})
    await client.receive_event("room:never-joined", "phx_reply")
    assert value("videoroom_web_frames_refused_total", reason="unmatched_topic") == unmatched + 1
    await client.send_text("this is not a frame")
    assert await client.receive_close_code() == 4007
    assert value("videoroom_web_frames_refused_total", reason="invalid_frame") == bad_frames + 1
    await client.communicator.wait(timeout=10)
    assert value("videoroom_web_sockets_open") == sockets
    assert joined_channels() == 0
