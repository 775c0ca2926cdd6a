"""A Phoenix V2 client over a real websocket, behaving like the phoenix npm client.

Every frame the server sends is kept, in order; tests wait for the first frame
matching a topic and event that arrived after the current join.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = list[Any]
# Generous: two daphnes, two workers and other developers' tests share two cores.
WAIT_SECONDS = 30.0


class PhoenixSocket:
    def __init__(self, connection: ClientConnection, name: str) -> None:
        self.name = name
        self._connection = connection
        self._ref = 0
        self.frames: list[Frame] = []
        self._arrived = asyncio.Condition()
        self.join_refs: dict[str, str] = {}
        # Index into frames where the current join of each topic started.
        self._join_start: dict[str, int] = {}
        self.peer_ids: dict[str, str] = {}
        self._reader = asyncio.create_task(self._read(), name=f"phoenix-read-{name}")

    @classmethod
    async def open(cls, socket_url: str, origin: str, name: str) -> PhoenixSocket:
        connection = await connect(
            socket_url,
            origin=origin,  # type: ignore[arg-type]  # a str is what the header carries
            proxy=None,
            open_timeout=WAIT_SECONDS,
        )
        return cls(connection, name)

    def next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self._connection:
                frame = json.loads(text)
                async with self._arrived:
                    self.frames.append(frame)
                    self._arrived.notify_all()

    async def send(self, frame: Frame) -> None:
        await self._connection.send(json.dumps(frame))

    async def wait_frame(
        self,
        topic: str,
        event: str,
        *,
        ref: str | None = None,
        start: int | None = None,
        timeout: float = WAIT_SECONDS,
    ) -> Frame:
        """The first frame with ``topic``, ``event`` (and ``ref``) since ``start``.

        ``start`` defaults to the current join of ``topic``.
        """
        begin = self._join_start.get(topic, 0) if start is None else start

        def found() -> Frame | None:
            for frame in self.frames[begin:]:
                if frame[2] == topic and frame[3] == event and (ref is None or frame[1] == ref):
                    return frame
            return None

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), timeout)
        frame = found()
        assert frame is not None
        return frame

    def still_joined(self, topic: str) -> bool:
        """No phx_close or phx_error on ``topic`` since its current join."""
        return not {"phx_close", "phx_error"} & set(self.events(topic))

    def events(self, topic: str) -> list[str]:
        """Events received on ``topic`` since its current join began."""
        begin = self._join_start.get(topic, 0)
        return [frame[3] for frame in self.frames[begin:] if frame[2] == topic]

    async def join(
        self,
        topic: str,
        display_name: str,
        timeout: float = WAIT_SECONDS,
        *,
        params: dict[str, Any] | None = None,
    ) -> Frame:
        """Send phx_join with a fresh join_ref (as the npm client does on every rejoin); return the reply.

        ``params`` replaces the default ``{"displayName": display_name}``.
        """
        ref = self.next_ref()
        self.join_refs[topic] = ref
        self._join_start[topic] = len(self.frames)
        payload = {"displayName": display_name} if params is None else params
        await self.send([ref, ref, topic, "phx_join", payload])
        reply = await self.wait_frame(topic, "phx_reply", ref=ref, timeout=timeout)
        if reply[4].get("status") == "ok":
            self.peer_ids[topic] = reply[4]["response"]["peerId"]
        return reply

    async def send_media_event(self, topic: str, event: dict[str, Any]) -> None:
        """Push one client media event (Membrane's ``{"type": ..., "data": ...}``)."""
        payload = {"data": json.dumps(event)}
        await self.send([self.join_refs[topic], self.next_ref(), topic, "mediaEvent", payload])

    def media_events(self, topic: str, *, since_join: bool = True) -> list[dict[str, Any]]:
        """Server media events on ``topic``, decoded: since its current join, or all."""
        begin = self._join_start.get(topic, 0) if since_join else 0
        return [
            json.loads(frame[4]["data"])
            for frame in self.frames[begin:]
            if frame[2] == topic and frame[3] == "mediaEvent"
        ]

    async def leave(self, topic: str) -> Frame:
        ref = self.next_ref()
        await self.send([self.join_refs[topic], ref, topic, "phx_leave", {}])
        return await self.wait_frame(topic, "phx_reply", ref=ref)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._connection.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def ok(reply: Frame) -> bool:
    return bool(reply[3] == "phx_reply" and reply[4].get("status") == "ok")
