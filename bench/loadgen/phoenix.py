"""A minimal Phoenix channels V2 JSON client: join one topic, push, receive pushes.

Frames are ``[join_ref, ref, topic, event, payload]``. Replies (``phx_reply``) resolve the
push with the same ``ref``; every other frame on the topic goes to ``on_push``; a socket
that ends without ``close()`` is reported to ``on_lost``. A heartbeat goes out every 30 s,
as the phoenix npm client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import websockets

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
REPLY_TIMEOUT = 15.0


class PhoenixError(Exception):
    """A join or push was refused, timed out, or the socket closed."""


class PhoenixClient:
    """One websocket, one joined topic."""

    def __init__(
        self,
        url: str,
        on_push: Callable[[str, dict[str, Any]], None],
        on_lost: Callable[[str], None] | None = None,
        local_address: str | None = None,
    ) -> None:
        self._url = url
        # The source address of the connection (e.g. 127.0.0.2): servers bound joins per
        # client address, and tests give each role its own.
        self._local_address = local_address
        self._on_push = on_push
        self._on_lost = on_lost  # the socket closed without close() being called: why
        self._closing = False
        self._refs = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ws: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._join_ref: str | None = None
        self._topic = ""
        self.closed = asyncio.Event()

    async def connect(self) -> None:
        # The server checks Origin against its allowed hosts, as for a browser page.
        parts = urlsplit(self._url)
        origin = f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"
        self._ws = await websockets.connect(
            self._url,
            origin=websockets.Origin(origin),
            max_size=None,
            open_timeout=REPLY_TIMEOUT,
            ping_interval=None,
            local_addr=(self._local_address, 0) if self._local_address else None,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._heartbeat())]

    async def join(self, topic: str, params: dict[str, Any]) -> dict[str, Any]:
        """Join ``topic``; the reply's ``response`` on ok, PhoenixError otherwise."""
        self._topic = topic
        self._join_ref = str(next(self._refs))
        reply = await self._request(self._join_ref, topic, "phx_join", params)
        if reply.get("status") != "ok":
            raise PhoenixError(f"join {topic} refused: {reply.get('response')}")
        response: dict[str, Any] = reply.get("response", {})
        return response

    async def push(self, event: str, payload: dict[str, Any]) -> None:
        """Send a push without waiting for its reply."""
        frame = [self._join_ref, str(next(self._refs)), self._topic, event, payload]
        await self._ws.send(json.dumps(frame))

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        self.closed.set()

    async def _request(
        self, join_ref: str | None, topic: str, event: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        ref = join_ref if event == "phx_join" else str(next(self._refs))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        await self._ws.send(json.dumps([join_ref, ref, topic, event, payload]))
        try:
            return await asyncio.wait_for(future, REPLY_TIMEOUT)
        except TimeoutError:
            raise PhoenixError(f"no reply to {event} on {topic}") from None
        finally:
            self._pending.pop(ref, None)

    async def _read(self) -> None:
        reason = "closed by the server"
        try:
            async for raw in self._ws:
                _join_ref, ref, topic, event, payload = json.loads(raw)
                if event == "phx_reply":
                    future = self._pending.get(ref)
                    if future is not None and not future.done():
                        future.set_result(payload)
                elif topic == self._topic:
                    self._on_push(event, payload)
        except websockets.ConnectionClosed as exc:
            reason = f"closed: {exc}"
        finally:
            if not self._closing and self._on_lost is not None:
                self._on_lost(f"socket {reason}")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(PhoenixError("socket closed"))
            self.closed.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            frame = [None, str(next(self._refs)), "phoenix", "heartbeat", {}]
            await self._ws.send(json.dumps(frame))
