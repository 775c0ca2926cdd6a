"""A Phoenix V2 test client over channels' WebsocketCommunicator and the real ASGI app."""

from __future__ import annotations

import json
from typing import Any

from channels.testing import WebsocketCommunicator

from videoroom_project.asgi import application

Frame = list[Any]
# Generous: the machine is shared and the embedded worker starts on first join.
WAIT_SECONDS = 20.0


def heartbeat_of(size: int) -> Frame:
    """A heartbeat frame whose JSON encoding is ``size`` bytes, padded in its payload."""
    frame: Frame = [None, "1", "phoenix", "heartbeat", {"pad": ""}]
    frame[4]["pad"] = "x" * (size - len(json.dumps(frame)))
    return frame


class PhoenixTestClient:
    """Speaks frames as the phoenix npm client does: refs are a counter of strings."""

    def __init__(
        self,
        query: str = "vsn=2.0.0",
        origin: bytes = b"http://localhost",
        client: tuple[str, int] = ("127.0.0.1", 50000),
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.communicator = WebsocketCommunicator(
            application,
            f"/socket/websocket?{query}",
            headers=[(b"host", b"localhost"), (b"origin", origin)] if headers is None else headers,
        )
        # The app has not run yet: it sees the client address daphne would put there.
        self.communicator.scope["client"] = list(client)
        self._ref = 0
        self.join_refs: dict[str, str] = {}

    def next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    async def connect(self) -> tuple[bool, int | str | None]:
        connected, code = await self.communicator.connect(timeout=WAIT_SECONDS)
        return connected, code

    async def send(self, frame: Frame) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = WAIT_SECONDS) -> Frame:
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        frame: Frame = json.loads(output["text"])
        return frame

    async def receive_close_code(self, timeout: float = WAIT_SECONDS) -> int:
        """Skip frames until the server closes; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def receive_event(self, topic: str, event: str, timeout: float = WAIT_SECONDS) -> Frame:
        """Skip other frames until one with ``event`` on ``topic`` arrives."""
        while True:
            frame = await self.receive(timeout)
            if frame[2] == topic and frame[3] == event:
                return frame

    async def nothing_more(self, seconds: float = 0.3) -> bool:
        return bool(await self.communicator.receive_nothing(seconds))

    async def join(self, topic: str, params: dict[str, Any]) -> Frame:
        """Send phx_join; return its phx_reply."""
        ref = self.next_ref()
        self.join_refs[topic] = ref
        await self.send([ref, ref, topic, "phx_join", params])
        reply = await self.receive()
        assert reply[:4] == [ref, ref, topic, "phx_reply"], reply
        return reply

    async def push(self, topic: str, event: str, payload: dict[str, Any]) -> str:
        ref = self.next_ref()
        await self.send([self.join_refs.get(topic), ref, topic, event, payload])
        return ref

    async def close(self) -> None:
        await self.communicator.disconnect(timeout=WAIT_SECONDS)
