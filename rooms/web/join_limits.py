"""Join rate limits: per socket and per client address, before a join reaches a worker.

Also, per client address, the rooms its joins may create and, per address and room,
the wrong PINs and bad tokens it may try (``exhausted`` before the attempt, ``take``
after a failure: right credentials cost nothing, so a whole office behind one NAT
address can join its PIN room). Each is an ``AddressBuckets`` keyed by its own string.

Every join costs a database query, a registry claim and a message to a room worker;
a client in a join/leave loop (the phoenix client rejoins forever after a refusal)
must not make those costs unbounded. Each socket has its own bucket; the address
buckets are process-local (each daphne process counts its own joins) and are
pruned once refilled, so addresses that went away leave nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from rooms.phoenix.ratelimit import TokenBucket

SECONDS_PER_MINUTE = 60.0
# How often the address table is swept for full (forgettable) buckets.
PRUNE_EVERY_SECONDS = 60.0
# The key of clients whose address the server does not know (a unix socket).
UNKNOWN_ADDRESS = "unknown"


def per_minute_bucket(per_minute: int, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
    """A bucket allowing ``per_minute`` joins at once, refilled over a minute."""
    return TokenBucket(float(per_minute), per_minute / SECONDS_PER_MINUTE, clock)


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's host from the ASGI scope (daphne puts X-Forwarded-For there with
    --proxy-headers), without its port: one machine's sockets share one bucket."""
    client = scope.get("client")
    if isinstance(client, (list, tuple)) and client and isinstance(client[0], str):
        return client[0]
    return UNKNOWN_ADDRESS


class AddressBuckets:
    """One join bucket per client address, forgotten once it has refilled."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._last_prune = clock()

    def take(self, address: str) -> bool:
        """Count one join from ``address``; False when it is over the limit."""
        self._maybe_prune()
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = per_minute_bucket(self.per_minute, self._clock)
        return bucket.take()

    def exhausted(self, address: str) -> bool:
        """Whether ``take`` would fail now; counts nothing."""
        bucket = self._buckets.get(address)
        return bucket is not None and not bucket.has_token()

    def __len__(self) -> int:
        return len(self._buckets)

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        # A full bucket behaves as a new one would, so dropping it changes nothing.
        for address in [a for a, bucket in self._buckets.items() if bucket.is_full()]:
            del self._buckets[address]


JOINS = "joins"  # keyed by address
ROOMS_CREATED = "rooms created"  # keyed by address
FAILED_ATTEMPTS = "failed attempts"  # keyed by attempt_key(address, room)

_tables: dict[str, AddressBuckets] = {}


def buckets(kind: str, per_minute: int) -> AddressBuckets:
    """This process's buckets of one kind (made anew if the limit changed)."""
    table = _tables.get(kind)
    if table is None or table.per_minute != per_minute:
        table = _tables[kind] = AddressBuckets(per_minute)
    return table


def address_buckets(per_minute: int) -> AddressBuckets:
    """This process's join buckets by address."""
    return buckets(JOINS, per_minute)


def attempt_key(address: str, room: str) -> str:
    """The key of PIN and token attempts: one client address on one room."""
    return f"{address} {room}"


def reset() -> None:
    """Forget every address (tests)."""
    _tables.clear()
