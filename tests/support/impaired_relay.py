"""A UDP relay that delays and drops datagrams in both directions: netem in user space.

The test machine's kernel has no ``sch_netem``, so the lossy link is built here: a client
talks to ``listen`` as if it were ``target``; each datagram, either way, is dropped with
probability ``loss`` or delivered ``delay`` seconds later. One upstream socket per client
address keeps the mapping 1:1. It runs on its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

Address = tuple[str, int]


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
            self.relay.impair(lambda: downstream.sendto(data, self.client))


class _Downstream(asyncio.DatagramProtocol):
    def __init__(self, relay: ImpairedUdpRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay.from_client(data, addr)


class ImpairedUdpRelay:
    """Relays ``listen`` <-> ``target`` with ``delay`` seconds and ``loss`` probability."""

    def __init__(
        self, listen: Address, target: Address, *, delay: float, loss: float, seed: int = 11
    ) -> None:
        self._listen = listen
        self._target = target
        self._delay = delay
        self._loss = loss
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._upstreams: dict[Address, _Upstream] = {}
        self.downstream: asyncio.DatagramTransport | None = None
        self.port = 0
        self.relayed = 0
        self.dropped = 0

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

    def impair(self, deliver: Any) -> None:
        if self._random.random() < self._loss:
            self.dropped += 1
            return
        self.relayed += 1
        self._loop.call_later(self._delay, deliver)

    def from_client(self, data: bytes, client: Address) -> None:
        upstream = self._upstreams.get(client)
        if upstream is None:
            upstream = _Upstream(self, client)
            self._upstreams[client] = upstream
            self._loop.create_task(self._connect(upstream, data))
            return
        transport = upstream.transport
        if transport is not None:
            self.impair(lambda: transport.sendto(data))

    async def _connect(self, upstream: _Upstream, first: bytes) -> None:
        await self._loop.create_datagram_endpoint(lambda: upstream, remote_addr=self._target)
        transport = upstream.transport
        if transport is not None:
            self.impair(lambda: transport.sendto(first))
