"""A UDP relay that delays, drops, cuts and throttles datagrams both ways: netem in user space.

The test machine's kernel has no ``sch_netem``, so the bad link is built here: a client
talks to ``listen`` as if it were ``target``; each datagram, either way, is dropped with
probability ``loss`` or delivered ``delay`` seconds later. One upstream socket per client
address keeps the mapping 1:1. It runs on its own event loop in a thread.

Two settings may change while it runs (plain attribute writes from the test's thread):
``outage`` drops every datagram both ways while true (a link cut), and ``rate_bps``, when
set, makes each direction a bottleneck of that many bits per second with a FIFO of at
most ``queue_bytes`` waiting (tbf's rate and limit): a datagram that would overflow the
queue is dropped, as a home router drops past its buffer.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

Address = tuple[str, int]
Deliver = Callable[[], Any]

# What a datagram costs on the bottleneck beyond its payload: IPv4 (20 B) and UDP (8 B).
_HEADER_BYTES = 28


class _Bottleneck:
    """One direction's rate limit: when each datagram has fully left, and what is queued."""

    def __init__(self) -> None:
        self.free_at = 0.0  # loop time at which the link has sent everything queued
        self.queued = 0  # bytes accepted and not yet sent

    def admit(
        self, loop: asyncio.AbstractEventLoop, size: int, rate_bps: float, limit: int
    ) -> float | None:
        """Seconds until this datagram has left the link, or None if the queue is full."""
        if self.queued + size > limit:
            return None
        now = loop.time()
        self.free_at = max(self.free_at, now) + size * 8 / rate_bps
        self.queued += size
        loop.call_at(self.free_at, self._sent, size)
        return self.free_at - now

    def _sent(self, size: int) -> None:
        self.queued -= size


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: ImpairedUdpRelay, client: Address) -> None:
        self.relay = relay
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        downstream = self.relay.downstream
        if downstream is not None:
            self.relay.impair(
                lambda: downstream.sendto(data, self.client), len(data), downlink=True
            )


class _Downstream(asyncio.DatagramProtocol):
    def __init__(self, relay: ImpairedUdpRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay.from_client(data, addr)


class ImpairedUdpRelay:
    """Relays ``listen`` <-> ``target`` with ``delay`` seconds and ``loss`` probability."""

    def __init__(
        self,
        listen: Address,
        target: Address,
        *,
        delay: float,
        loss: float,
        seed: int = 11,
        queue_bytes: int = 18_750,
    ) -> None:
        self._listen = listen
        self._target = target
        self._delay = delay
        self._loss = loss
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._upstreams: dict[Address, _Upstream] = {}
        self._links = {True: _Bottleneck(), False: _Bottleneck()}  # keyed by downlink
        self.downstream: asyncio.DatagramTransport | None = None
        self.port = 0
        self.outage = False
        self.rate_bps: float | None = None
        self.queue_bytes = queue_bytes
        self.relayed = 0
        self.dropped = 0  # lost at random or in an outage
        self.overflowed = 0  # dropped by a full bottleneck queue

    def __enter__(self) -> ImpairedUdpRelay:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Downstream(self), local_addr=self._listen
        )
        self.downstream = transport
        self.port = transport.get_extra_info("sockname")[1]

    async def _stop(self) -> None:
        for upstream in self._upstreams.values():
            if upstream.transport is not None:
                upstream.transport.close()
        if self.downstream is not None:
            self.downstream.close()

    def impair(self, deliver: Deliver, size: int, *, downlink: bool) -> None:
        if self.outage or self._random.random() < self._loss:
            self.dropped += 1
            return
        delay = self._delay
        rate = self.rate_bps
        if rate is not None:
            sent = self._links[downlink].admit(
                self._loop, size + _HEADER_BYTES, rate, self.queue_bytes
            )
            if sent is None:
                self.overflowed += 1
                return
            delay += sent
        self.relayed += 1
        self._loop.call_later(delay, deliver)

    def from_client(self, data: bytes, client: Address) -> None:
        upstream = self._upstreams.get(client)
        if upstream is None:
            upstream = _Upstream(self, client)
            self._upstreams[client] = upstream
            self._loop.create_task(self._connect(upstream, data))
            return
        transport = upstream.transport
        if transport is not None:
            self.impair(lambda: transport.sendto(data), len(data), downlink=False)

    async def _connect(self, upstream: _Upstream, first: bytes) -> None:
        await self._loop.create_datagram_endpoint(lambda: upstream, remote_addr=self._target)
        transport = upstream.transport
        if transport is not None:
            self.impair(lambda: transport.sendto(first), len(first), downlink=False)
