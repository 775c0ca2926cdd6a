"""Suite-wide fixtures: the private redis-server and a clean layer per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from tests.support.redis_server import running_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a redis-server started for this test session only."""
    with running_redis() as url:
        yield url


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The session's redis, flushed before the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    yield redis_url


@pytest.fixture(autouse=True)
def no_lease_keeper_left() -> Iterator[None]:
    """Every room worker a test started was stopped, and its lease keeper thread with it."""
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("lease-keeper-")]
    assert not left, f"lease keeper threads still running: {left}"
