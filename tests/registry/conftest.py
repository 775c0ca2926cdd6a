"""Both registry backends behind one fixture, so every behaviour test runs on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import shortuuid

from rooms.registry.base import LeaseWriter, Registry
from rooms.registry.local import LocalRegistry
from rooms.registry.redis import RedisLeaseWriter, RedisRegistry


def unique_prefix() -> str:
    """A key prefix no other test (or developer) shares."""
    return "regtest-" + shortuuid.uuid()[:8]


@pytest.fixture
def prefix() -> str:
    return unique_prefix()


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
async def registry(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Registry]:
    """A LocalRegistry, or a RedisRegistry on the test's freshly flushed redis-server."""
    if request.param == "local":
        local = LocalRegistry()
        yield local
        await local.close()
        return
    url: str = request.getfixturevalue("clean_redis")
    remote = RedisRegistry.from_url(url, prefix)
    yield remote
    await remote.close()


@pytest.fixture
def lease_writer(
    request: pytest.FixtureRequest, registry: Registry, prefix: str
) -> Iterator[LeaseWriter]:
    """The blocking lease writer for ``registry``: itself, or a client of the same keys."""
    if isinstance(registry, LocalRegistry):
        yield registry
        return
    writer = RedisLeaseWriter.from_url(request.getfixturevalue("clean_redis"), prefix)
    yield writer
    writer.close()
