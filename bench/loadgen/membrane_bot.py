"""A synthetic participant for this project: Phoenix ``/socket`` plus Membrane media events.

It behaves like membrane-webrtc-js 0.5.3 in a browser (reference 2.3-2.4): ``connect``,
``renegotiateTracks``, then on every ``offerData`` an offer with ``sendonly`` m-lines for
its own tracks and ``recvonly`` m-lines up to ``tracksTypes``; the ``sdpAnswer``'s
``midToTrackId`` names the remote track each m-line receives. Unlike a browser it does not
restart ICE on renegotiation (aiortc as offerer keeps its credentials).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from bench.loadgen.bot import Bot, BotMedia
from bench.loadgen.phoenix import PhoenixClient
from bench.loadgen.tracks import ClipTrack

logger = logging.getLogger(__name__)


def _ice_servers(servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    # Never None: aiortc would then use a public STUN server.
    return [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in servers
    ]


class MembraneBot(Bot):
    """Joins ``room:<room>`` at ``url`` and publishes, subscribes, counts."""

    def __init__(
        self,
        name: str,
        media: BotMedia,
        *,
        url: str,
        room: str,
        local_address: str | None = None,
    ) -> None:
        super().__init__(name, media)
        self._url = url
        self._room = room
        self._client = PhoenixClient(url, self._on_push, self._on_lost, local_address)
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pc: RTCPeerConnection | None = None
        self._own: dict[str, ClipTrack] = {}  # own track id -> its track
        self._own_mids: dict[str, str] = {}  # mid -> own track id
        self._remote_owner: dict[str, str] = {}  # remote track id -> endpoint id
        self._names: dict[str, str] = {}  # endpoint id -> displayName
        self._negotiated = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.peer_id = ""

    @property
    def own_tracks(self) -> dict[str, str]:
        """The kind of each track this bot publishes, by its track id."""
        return {track_id: track.kind for track_id, track in self._own.items()}

    async def start(self) -> None:
        self.join_started = time.monotonic()
        await self._client.connect()
        reply = await self._client.join(f"room:{self._room}", {"displayName": self.name})
        self.peer_id = reply["peerId"]
        self.joined_at = time.monotonic()
        self._pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=_ice_servers(reply.get("iceServers", [])),
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        self._own = self.new_tracks(self.peer_id)
        for track in self._own.values():
            transceiver = self._pc.addTransceiver(track, direction="sendonly")
            track.attach(transceiver.sender)
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._send({"type": "connect", "data": {"metadata": {"displayName": self.name}}})
        await self._send({"type": "custom", "data": {"type": "renegotiateTracks"}})
        await asyncio.wait_for(self._negotiated.wait(), 30)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.close()
        if self._pc is not None:
            await self._pc.close()

    # --- media events -----------------------------------------------------------------

    def _on_push(self, event: str, payload: dict[str, Any]) -> None:
        if event == "mediaEvent":
            self._events.put_nowait(json.loads(payload["data"]))
        elif event in ("phx_error", "phx_close"):
            self.error = f"{event}: {payload}"
            logger.info("%s: %s", self.name, self.error)

    def _on_lost(self, reason: str) -> None:
        # A bot whose socket is gone neither publishes nor subscribes any more: a failure.
        self.error = self.error or reason
        logger.warning("%s: %s", self.name, reason)

    async def _send(self, event: dict[str, Any]) -> None:
        await self._client.push("mediaEvent", {"data": json.dumps(event)})

    async def _run(self) -> None:
        while True:
            event = await self._events.get()
            if self._pc is not None and self._pc.signalingState == "closed":
                # The server closed its side (peer removed): aiortc then closes ours.
                self.error = self.error or "peer connection closed by the server"
                continue
            try:
                await self._handle(event)
            except Exception as exc:  # a bench bot reports and keeps counting
                self.error = f"{event.get('type')}: {exc!r}"
                logger.exception("%s: media event failed", self.name)

    async def _handle(self, event: dict[str, Any]) -> None:
        kind, data = event.get("type"), event.get("data") or {}
        if kind == "custom":
            kind, data = data.get("type"), data.get("data") or {}
        if kind == "connected":
            for other in data.get("otherEndpoints", []):
                self._names[other["id"]] = other.get("metadata", {}).get("displayName", other["id"])
        elif kind == "endpointAdded":
            self._names[data["id"]] = data.get("metadata", {}).get("displayName", data["id"])
        elif kind == "tracksAdded":
            for track_id in data.get("tracks") or data.get("trackIdToMetadata", {}):
                self._remote_owner[track_id] = data["endpointId"]
        elif kind == "offerData":
            await self._offer(data["tracksTypes"])
        elif kind == "sdpAnswer":
            await self._apply_answer(data)
        elif kind == "candidate":
            assert self._pc is not None
            candidate = candidate_from_sdp(data["candidate"].split(":", 1)[1])
            candidate.sdpMLineIndex = 0
            await self._pc.addIceCandidate(candidate)
        elif kind == "error":
            self.error = f"server error: {data}"

    async def _offer(self, tracks_types: dict[str, int]) -> None:
        pc = self._pc
        assert pc is not None
        for kind in ("audio", "video"):
            receiving = sum(
                1 for t in pc.getTransceivers() if t.kind == kind and t.direction == "recvonly"
            )
            for _ in range(tracks_types.get(kind, 0) - receiving):
                pc.addTransceiver(kind, direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        senders = {t.sender.track: t.mid for t in pc.getTransceivers() if t.direction == "sendonly"}
        self._own_mids = {
            senders[track]: track_id for track_id, track in self._own.items() if senders.get(track)
        }
        metadata = {
            tid: {"type": "camera" if track.kind == "video" else "microphone", "active": True}
            for tid, track in self._own.items()
        }
        offer = {
            "sdpOffer": {"type": "offer", "sdp": pc.localDescription.sdp},
            "trackIdToTrackMetadata": metadata,
            "trackIdToTrackBitrates": {},
            "midToTrackId": self._own_mids,
        }
        await self._send({"type": "custom", "data": {"type": "sdpOffer", "data": offer}})

    async def _apply_answer(self, data: dict[str, Any]) -> None:
        pc = self._pc
        assert pc is not None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
        mapping: dict[str, str] = data.get("midToTrackId", {})
        for transceiver in pc.getTransceivers():
            track_id = mapping.get(transceiver.mid or "")
            if transceiver.direction != "recvonly" or track_id is None:
                continue
            owner = self._remote_owner.get(track_id, track_id.split(":", 1)[0])
            self.bind(transceiver, track_id, self._names.get(owner, owner))
        self._negotiated.set()
