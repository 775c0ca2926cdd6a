"""The Membrane videoroom's room.ts joins with no params at all: it is let in, nameless."""

from __future__ import annotations

import pytest

from tests.phoenix.client import PhoenixTestClient
from tests.worker.fake_room import FakeRoom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_rooms")]


async def test_a_join_with_empty_params_is_accepted_and_named_later(
    fake_rooms: dict[str, FakeRoom],
) -> None:
    client = PhoenixTestClient()
    assert (await client.connect())[0]
    reply = await client.join("room:alpha", {})
    assert reply[4]["status"] == "ok", reply
    peer = fake_rooms["alpha"].peers[0]
    assert peer.peer_id == reply[4]["response"]["peerId"]
    # No name yet: the Room takes it from `connect` metadata, or calls the peer Guest.
    assert peer.display_name == ""
    await client.close()
