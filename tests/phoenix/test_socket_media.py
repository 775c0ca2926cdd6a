"""Media events between two sockets through the embedded worker and the real Room."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.phoenix.client import PhoenixTestClient

pytestmark = pytest.mark.django_db(transaction=True)

TOPIC = "room:alpha"


def connect_event(name: str) -> dict[str, str]:
    return {"data": json.dumps({"type": "connect", "data": {"metadata": {"displayName": name}}})}


async def media_event(client: PhoenixTestClient, kind: str) -> dict[str, Any]:
    """Skip pushes until a mediaEvent whose data has ``type`` == kind; return that data."""
    while True:
        frame = await client.receive_event(TOPIC, "mediaEvent")
        assert frame[0] == client.join_refs[TOPIC] and frame[1] is None
        data: dict[str, Any] = json.loads(frame[4]["data"])
        if data["type"] == kind:
            return data


async def joined_client(name: str) -> tuple[PhoenixTestClient, str]:
    client = PhoenixTestClient()
    assert (await client.connect())[0]
    reply = await client.join(TOPIC, {"displayName": name})
    assert reply[4]["status"] == "ok", reply
    return client, reply[4]["response"]["peerId"]


async def test_connect_returns_connected_and_the_other_peer_sees_the_endpoint_come_and_go() -> None:
    ann, ann_id = await joined_client("Ann")
    bob, bob_id = await joined_client("Bob")

    await ann.push(TOPIC, "mediaEvent", connect_event("Ann"))
    connected = await media_event(ann, "connected")
    assert connected["data"]["id"] == ann_id
    assert connected["data"]["otherEndpoints"] == []

    await bob.push(TOPIC, "mediaEvent", connect_event("Bob"))
    connected = await media_event(bob, "connected")
    assert [e["id"] for e in connected["data"]["otherEndpoints"]] == [ann_id]
    added = await media_event(ann, "endpointAdded")
    assert added["data"]["id"] == bob_id
    assert added["data"]["metadata"]["displayName"] == "Bob"

    await bob.push(TOPIC, "phx_leave", {})
    removed = await media_event(ann, "endpointRemoved")
    assert removed["data"]["id"] == bob_id
    await ann.close()
    await bob.close()
