"""Suite-wide fixtures: the private redis-server and a clean layer per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from rooms.outage import redis_health
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
def no_redis_outage_remembered() -> None:
    """Each test starts with the process's Redis tracker at rest, whatever the last one did."""
    redis_health.reset()


@pytest.fixture(autouse=True)
def no_lease_keeper_left() -> Iterator[None]:
    """Every room worker a test started was stopped, and its lease keeper thread with it."""
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("lease-keeper-")]
    assert not left, f"lease keeper threads still running: {left}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """SQLite tests use a database file, as deployments do, not shared-cache memory.

    The room worker writes participation history from its recorder's thread while
    tests and joins read from other threads. Shared-cache in-memory SQLite answers
    such an overlap at once with "database table is locked"; a file waits on the
    busy timeout (settings), as in production.
    """
    from django.conf import settings

    for alias, database in settings.DATABASES.items():
        if database["ENGINE"] == "django.db.backends.sqlite3":
            path = tmp_path_factory.mktemp("db") / f"{alias}.sqlite3"
            database.setdefault("TEST", {})["NAME"] = str(path)
