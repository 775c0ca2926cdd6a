"""Joins are rate-limited per socket and per client address before reaching a worker."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.conf import settings as django_settings

from rooms.phoenix.ratelimit import TokenBucket
from rooms.web.join_limits import AddressBuckets
from tests.phoenix.client import PhoenixTestClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_rooms")]

RATE_LIMITED = {"status": "error", "response": {"reason": "rate limited"}}


@pytest.fixture
def tight_limits(settings: Any) -> None:
    settings.VIDEOROOM_LIMITS = dataclasses.replace(
        django_settings.VIDEOROOM_LIMITS,
        joins_per_minute_per_socket=3,
        joins_per_minute_per_address=12,
    )


async def connected(address: str) -> PhoenixTestClient:
    client = PhoenixTestClient(client=(address, 40000))
    assert (await client.connect())[0]
    return client


async def join_and_leave(client: PhoenixTestClient, topic: str) -> bool:
    """One join (True if it succeeded) and its leave, which is always answered ok."""
    reply = await client.join(topic, {"displayName": "Flood"})
    ref = await client.push(topic, "phx_leave", {})
    leave_reply = await client.receive_event(topic, "phx_reply")
    assert leave_reply[1] == ref and leave_reply[4]["status"] == "ok"
    if reply[4]["status"] == "ok":
        await client.receive_event(topic, "phx_close")
        return True
    assert reply[4] == RATE_LIMITED, reply
    return False


@pytest.mark.usefixtures("tight_limits")
async def test_a_socket_in_a_join_leave_loop_is_refused_past_its_bound() -> None:
    client = await connected("10.0.0.1")
    results = [await join_and_leave(client, "room:loop") for _ in range(5)]
    assert results == [True, True, True, False, False]
    await client.close()


@pytest.mark.usefixtures("tight_limits")
async def test_ten_sockets_from_one_address_are_refused_past_its_bound_others_are_not() -> None:
    clients = [await connected("10.0.0.2") for _ in range(10)]
    succeeded = 0
    for _ in range(2):
        for client in clients:
            succeeded += await join_and_leave(client, "room:flood")
    assert succeeded == 12

    other = await connected("10.0.0.3")
    reply = await other.join("room:flood", {"displayName": "Bystander"})
    assert reply[4]["status"] == "ok", reply
    for client in [*clients, other]:
        await client.close()


def test_address_buckets_forget_addresses_whose_bucket_has_refilled() -> None:
    now = [0.0]
    buckets = AddressBuckets(per_minute=2, clock=lambda: now[0])
    for n in range(1000):
        assert buckets.take(f"192.0.2.{n % 250}.{n}")
    assert len(buckets) == 1000
    assert buckets.take("192.0.2.1") and buckets.take("192.0.2.1")
    assert not buckets.take("192.0.2.1")
    now[0] = 61.0  # a minute on, every bucket is full again
    assert buckets.take("198.51.100.7")
    assert len(buckets) == 1


def test_a_token_bucket_is_full_once_refilled() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, 1.0, clock=lambda: now[0])
    assert bucket.is_full()
    bucket.take()
    assert not bucket.is_full()
    now[0] = 1.0
    assert bucket.is_full()
