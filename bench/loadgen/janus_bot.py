"""The same synthetic participant for Janus 1.1 VideoRoom, over its WebSocket JSON API.

One session, two handles, like janus.js: a publisher handle (``join`` as publisher, then
``publish`` with an offer) and one multistream subscriber handle (``join`` as subscriber
with every known feed, later ``subscribe`` for new ones; Janus offers, the bot answers
with ``start``). Reference 2.2 has the message shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from typing import Any

import websockets
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from bench.loadgen.bot import Bot, BotMedia

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 25.0  # Janus's session_timeout defaults to 60 s
REPLY_TIMEOUT = 15.0
PLUGIN = "janus.plugin.videoroom"


def _config() -> RTCConfiguration:
    # MAX_BUNDLE: with aiortc's BALANCED default an answer to two m-lines of one kind
    # leaves the second on a discarded transport. iceServers=[]: no public STUN.
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


class JanusBot(Bot):
    """Publishes to and subscribes in Janus VideoRoom ``room``."""

    def __init__(self, name: str, media: BotMedia, *, url: str, room: int) -> None:
        super().__init__(name, media)
        self._url = url
        self._room = room
        self._ws: Any = None
        self._transactions = (f"t{n}" for n in itertools.count())
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._notices: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._session = 0
        self._pub_handle = 0
        self._sub_handle = 0
        self._pub_pc = RTCPeerConnection(_config())
        self._sub_pc = RTCPeerConnection(_config())
        self._feed_id = 0
        self._subscribed: set[int] = set()
        self._feeds: dict[int, str] = {}  # feed id -> display name

    async def start(self) -> None:
        self.join_started = time.monotonic()
        self._ws = await websockets.connect(
            self._url, subprotocols=[websockets.Subprotocol("janus-protocol")], max_size=None
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._keepalive())]
        self._session = (await self._request({"janus": "create"}))["data"]["id"]
        self._pub_handle = await self._attach()
        self._sub_handle = await self._attach()
        joined = await self._message(
            self._pub_handle,
            {"request": "join", "ptype": "publisher", "room": self._room, "display": self.name},
        )
        data = joined["plugindata"]["data"]
        if data.get("videoroom") != "joined":
            raise RuntimeError(f"join refused: {data}")
        self._feed_id = data["id"]
        self.joined_at = time.monotonic()
        await self._publish()
        self._tasks.append(loop.create_task(self._run()))
        await self._subscribe(data.get("publishers", []))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(
                    json.dumps(
                        {"janus": "destroy", "session_id": self._session, "transaction": "x"}
                    )
                )
                await self._ws.close()
        await self._pub_pc.close()
        await self._sub_pc.close()

    # --- publishing and subscribing ---------------------------------------------------

    async def _publish(self) -> None:
        for track in self.new_tracks(self.name).values():
            transceiver = self._pub_pc.addTransceiver(track, direction="sendonly")
            track.attach(transceiver.sender)
        await self._pub_pc.setLocalDescription(await self._pub_pc.createOffer())
        offer = {"type": "offer", "sdp": self._pub_pc.localDescription.sdp}
        reply = await self._message(self._pub_handle, {"request": "publish"}, jsep=offer)
        jsep = reply.get("jsep")
        if not jsep:
            raise RuntimeError(f"publish refused: {reply['plugindata']['data']}")
        await self._pub_pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "answer"))

    async def _subscribe(self, publishers: list[dict[str, Any]]) -> None:
        new = [
            p for p in publishers if p["id"] not in self._subscribed and p["id"] != self._feed_id
        ]
        if not new:
            return
        for publisher in new:
            self._feeds[publisher["id"]] = publisher.get("display", str(publisher["id"]))
            self._subscribed.add(publisher["id"])
        streams = [{"feed": p["id"]} for p in new]
        if self._sub_pc.remoteDescription is None:
            body = {
                "request": "join",
                "ptype": "subscriber",
                "room": self._room,
                "streams": streams,
            }
        else:
            body = {"request": "subscribe", "streams": streams}
        reply = await self._message(self._sub_handle, body)
        if reply.get("jsep"):
            await self._answer(reply)
        # Otherwise Janus answered "updating": its offer follows as an "updated" event.

    async def _answer(self, event: dict[str, Any]) -> None:
        jsep = event.get("jsep")
        if not jsep:
            raise RuntimeError(f"no offer from Janus: {event['plugindata']['data']}")
        pc = self._sub_pc
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": "answer", "sdp": pc.localDescription.sdp}
        by_mid = {t.mid: t for t in pc.getTransceivers()}
        for stream in event["plugindata"]["data"].get("streams", []):
            transceiver = by_mid.get(stream.get("mid"))
            feed = stream.get("feed_id")
            if transceiver is None or feed is None or stream.get("type") not in ("audio", "video"):
                continue
            self.bind(transceiver, f"{feed}:{stream['type']}", self._feeds.get(feed, str(feed)))
        await self._message(self._sub_handle, {"request": "start"}, jsep=answer)

    async def _run(self) -> None:
        while True:
            notice = await self._notices.get()
            try:
                await self._handle(notice)
            except Exception as exc:  # a bench bot reports and keeps counting
                self.error = f"{notice.get('janus')}: {exc!r}"
                logger.exception("%s: Janus event failed", self.name)

    async def _handle(self, notice: dict[str, Any]) -> None:
        if notice.get("janus") == "trickle":
            candidate = notice.get("candidate", {})
            if candidate.get("candidate"):
                pc = self._pub_pc if notice.get("sender") == self._pub_handle else self._sub_pc
                parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
                parsed.sdpMid = candidate.get("sdpMid")
                parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
                await pc.addIceCandidate(parsed)
            return
        data = notice.get("plugindata", {}).get("data", {})
        if notice.get("janus") != "event":
            return
        if (
            notice.get("sender") == self._sub_handle
            and notice.get("jsep", {}).get("type") == "offer"
        ):
            # A renegotiation Janus started (new streams, a publisher gone): answer it.
            await self._answer(notice)
        if data.get("publishers"):
            await self._subscribe(data["publishers"])

    # --- transport ----------------------------------------------------------------------

    async def _attach(self) -> int:
        reply = await self._request(
            {"janus": "attach", "plugin": PLUGIN, "session_id": self._session}
        )
        return int(reply["data"]["id"])

    async def _message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "janus": "message",
            "session_id": self._session,
            "handle_id": handle,
            "body": body,
        }
        if jsep is not None:
            request["jsep"] = jsep
        return await self._request(request)

    async def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        transaction = next(self._transactions)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = future
        await self._ws.send(json.dumps({**request, "transaction": transaction}))
        try:
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT)
        finally:
            self._pending.pop(transaction, None)
        if reply.get("janus") == "error":
            raise RuntimeError(f"Janus error: {reply.get('error')}")
        return reply

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                message = json.loads(raw)
                kind = message.get("janus")
                future = self._pending.get(message.get("transaction", ""))
                if future is not None and kind != "ack" and not future.done():
                    future.set_result(message)
                elif kind in ("event", "trickle"):
                    self._notices.put_nowait(message)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            await self._ws.send(
                json.dumps({"janus": "keepalive", "session_id": self._session, "transaction": "k"})
            )
