"""An in-process aiortc client that plays the Membrane JS client's role against a Room.

It speaks media events: sends connect, answers every offerData with an offer holding its
own tracks as sendonly transceivers plus recvonly transceivers up to tracksTypes (calling
its own "restartIce" on later rounds if asked), applies sdpAnswer, trickles nothing
(aiortc puts its candidates in the offer). Received tracks are read as encoded packets.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import uuid
from collections.abc import Callable
from typing import Any

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack

from rooms.grants import PARTICIPANT, Grant
from rooms.messages import RemovalReason
from rooms.moderation import ModerationRecord
from rooms.roomtypes import PeerInfo
from rooms.sfu.room import Room
from tests.sfu import encoded_receiver

VIDEO_CLOCK = fractions.Fraction(1, 90000)


def vp8_frame(index: int, *, keyframe: bool, size: int = 3000) -> bytes:
    """Opaque bytes with VP8's key-frame bit (bit 0 of byte 0: 0 = key) and a unique body."""
    head = bytes([0x10 if keyframe else 0x11])
    body = index.to_bytes(4, "big") * (size // 4)
    return head + body


class EncodedVideoTrack(MediaStreamTrack):
    """Publishes pre-encoded VP8 frames at ``fps``: a keyframe first and whenever asked."""

    kind = "video"

    def __init__(self, fps: float = 30.0) -> None:
        super().__init__()
        self._interval = 1.0 / fps
        self._index = 0
        self._want_keyframe = True
        self.sent: list[bytes] = []
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._want_keyframe = True

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(self._interval)
        data = vp8_frame(self._index, keyframe=self._want_keyframe)
        self._want_keyframe = False
        packet = av.Packet(data)
        packet.pts = int(self._index * self._interval * 90000)
        packet.time_base = VIDEO_CLOCK
        self._index += 1
        self.sent.append(data)
        return packet


class EncodedAudioTrack(MediaStreamTrack):
    """Publishes opaque 20 ms "Opus" packets (48 kHz clock), each with a unique body."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._index = 0
        self.sent: list[bytes] = []

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(0.02)
        data = b"\xfc" + self._index.to_bytes(4, "big") * 20
        packet = av.Packet(data)
        packet.pts = self._index * 960  # 20 ms at 48 kHz
        packet.time_base = fractions.Fraction(1, 48000)
        self._index += 1
        self.sent.append(data)
        return packet


class SpeakingAudioTrack(AudioStreamTrack):
    """Raw audio that aiortc encodes to Opus, so its sender writes the RFC 6464 audio level:
    a -12 dBov square wave while ``loud``, digital silence (-127 dBov) otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.loud = True

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        assert isinstance(frame, av.AudioFrame)
        if self.loud:
            plane = frame.planes[0]
            wave = (8000).to_bytes(2, "little", signed=True) + (-8000).to_bytes(
                2, "little", signed=True
            )
            plane.update(wave * (plane.buffer_size // 4))
        return frame


class MediaClient:
    """One test peer: a PeerInfo in the room plus an aiortc connection driven by media events."""

    def __init__(self, room: Room, peer_id: str, grants: frozenset[Grant] = PARTICIPANT) -> None:
        self.room = room
        self.info = PeerInfo(
            peer_id=peer_id, channel=f"test.{peer_id}", display_name=peer_id, grants=grants
        )
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.events: list[dict[str, Any]] = []
        self.pc: RTCPeerConnection | None = None
        self.own: dict[str, tuple[MediaStreamTrack, dict[str, Any]]] = {}  # track id -> track
        self.own_transceivers: dict[str, RTCRtpTransceiver] = {}
        self.mid_to_track_id: dict[str, str] = {}
        self.received: dict[str, list[bytes]] = {}  # remote track id -> frames
        self.remote_tracks: dict[str, dict[str, Any]] = {}  # announced, by track id
        self.answers = 0
        self.restart_ice_on_renegotiation = False
        # Browsers offer before gathering completes: no a=end-of-candidates in their SDP.
        self.offer_without_end_of_candidates = False
        # False: receive like a browser, decoding (received holds "WxH" per frame).
        self.encoded = True
        self._readers: list[asyncio.Task[None]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def peer_id(self) -> str:
        return self.info.peer_id

    def types(self) -> list[str]:
        return [
            f"custom:{e['data']['type']}" if e["type"] == "custom" else e["type"]
            for e in self.events
        ]

    async def send(self, kind: str, data: Any = None, *, custom: bool = False) -> None:
        event: dict[str, Any] = {"type": kind}
        if data is not None:
            event["data"] = data
        if custom:
            event = {"type": "custom", "data": event}
        await self.room.handle_media_event(self.peer_id, json.dumps(event))

    async def join(self, *, max_participants: int = 10) -> None:
        await self.room.add_peer(self.info, max_participants=max_participants)
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self.send("connect", {"metadata": {"displayName": self.peer_id}})

    def add_track(self, track: MediaStreamTrack, metadata: dict[str, Any]) -> str:
        track_id = f"{self.peer_id}:{uuid.uuid4()}"
        self.own[track_id] = (track, metadata)
        if self.pc is not None:
            self._add_sender(track_id, track)
        return track_id

    def _add_sender(self, track_id: str, track: MediaStreamTrack) -> None:
        assert self.pc is not None
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        if isinstance(track, EncodedVideoTrack):
            # A pre-encoded source cannot use aiortc's encoder flag: answer PLI/FIR here.
            transceiver.sender._send_keyframe = track.request_keyframe  # type: ignore[method-assign]
        self.own_transceivers[track_id] = transceiver

    async def publish(self, track: MediaStreamTrack, metadata: dict[str, Any]) -> str:
        track_id = self.add_track(track, metadata)
        await self.send("renegotiateTracks", custom=True)
        return track_id

    async def unpublish(self, track_id: str) -> None:
        self.own.pop(track_id)
        transceiver = self.own_transceivers.pop(track_id)
        transceiver.sender.replaceTrack(None)
        transceiver.direction = "inactive"
        await self.send("renegotiateTracks", custom=True)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        async def poll() -> None:
            while not predicate():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)

    async def close(self) -> None:
        """Stop the client side (the server side is the Room's business)."""
        tasks = [t for t in [self._task, *self._readers] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.pc is not None:
            await self.pc.close()

    async def leave(self) -> None:
        await self.room.remove_peer(self.peer_id, RemovalReason.LEFT)
        await self.close()

    # --- the JS client's handlers ---------------------------------------------------

    async def _run(self) -> None:
        while True:
            event = await self.inbox.get()
            self.events.append(event)
            kind, data = event["type"], event.get("data")
            if kind == "custom":
                kind, data = data["type"], data.get("data")
            if kind == "tracksAdded":
                self.remote_tracks.update(data["tracks"])
            elif kind == "tracksRemoved":
                for track_id in data["trackIds"]:
                    self.remote_tracks.pop(track_id, None)
            elif kind == "offerData":
                await self._on_offer_data(data["tracksTypes"])
            elif kind == "sdpAnswer" and self.pc is not None:
                await self.pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))
                self.mid_to_track_id = data["midToTrackId"]
                self.answers += 1

    async def _on_offer_data(self, counts: dict[str, int]) -> None:
        if self.pc is None:
            # max-bundle, as the project's browser client asks for. Under aiortc's default
            # "balanced" policy the m-lines of a kind other than m-line 0's share a transport
            # of their own; on the BUNDLE answer aiortc 1.16 moves only the first of them to
            # m-line 0's transport and stops that one, so the others added in the same offer
            # never receive anything.
            self.pc = RTCPeerConnection(
                RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
            )
            self.pc.on("track", self._on_track)
            for track_id, (track, _) in self.own.items():
                self._add_sender(track_id, track)
        elif self.restart_ice_on_renegotiation:
            restart_ice(self.pc)
        for kind in ("audio", "video"):
            have = sum(
                1 for t in self.pc.getTransceivers() if t.kind == kind and t.direction == "recvonly"
            )
            for _ in range(counts[kind] - have):
                self.pc.addTransceiver(kind, direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        mids = {t.mid: tid for tid, t in self.own_transceivers.items() if t.mid is not None}
        sdp = self.pc.localDescription.sdp
        if self.offer_without_end_of_candidates:
            sdp = sdp.replace("a=end-of-candidates\r\n", "")
        await self.send(
            "sdpOffer",
            {
                "sdpOffer": {"type": "offer", "sdp": sdp},
                "trackIdToTrackMetadata": {tid: md for tid, (_, md) in self.own.items()},
                "trackIdToTrackBitrates": {},
                "midToTrackId": mids,
            },
            custom=True,
        )

    def _on_track(self, track: MediaStreamTrack) -> None:
        if self.encoded:
            encoded_receiver.install()
            encoded_receiver.mark_passthrough(track)
        transceiver = next(
            t
            for t in self.pc.getTransceivers()
            if t.receiver.track is track  # type: ignore[union-attr]
        )
        self._readers.append(asyncio.get_running_loop().create_task(self._read(transceiver)))

    async def _read(self, transceiver: RTCRtpTransceiver) -> None:
        track = transceiver.receiver.track
        try:
            while True:
                item = await track.recv()
                track_id = self.mid_to_track_id.get(transceiver.mid or "", f"mid:{transceiver.mid}")
                if isinstance(item, av.VideoFrame):
                    value = f"{item.width}x{item.height}".encode()
                else:
                    value = bytes(item)  # type: ignore[arg-type]
                self.received.setdefault(track_id, []).append(value)
        except MediaStreamError:
            pass


def restart_ice(pc: RTCPeerConnection) -> None:
    """What pc.restartIce() does to the next offer: fresh local ufrag/pwd on every transport."""
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        connection._local_username = uuid.uuid4().hex[:8]
        connection._local_password = uuid.uuid4().hex + "abcdef"


class RoutingOutbox:
    """Delivers the Room's media events to the MediaClients' inboxes; records removals."""

    def __init__(self) -> None:
        self.clients: dict[str, MediaClient] = {}
        self.left: list[tuple[str, RemovalReason]] = []
        self.moderations: list[ModerationRecord] = []
        # The Room under test; request_removal acts as its owner (the RoomHost).
        self.room: Any = None
        self.removals: set[asyncio.Task[None]] = set()

    async def media_event(self, peer: PeerInfo, data: str) -> None:
        client = self.clients.get(peer.peer_id)
        if client is not None:
            client.inbox.put_nowait(json.loads(data))

    async def peer_left(self, peer: PeerInfo, reason: RemovalReason) -> None:
        self.left.append((peer.peer_id, reason))

    def moderated(self, record: ModerationRecord) -> None:
        self.moderations.append(record)

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        """As the room's owner does: remove the peer in a task of its own."""
        assert self.room is not None, "set outbox.room to the Room under test"
        task = asyncio.get_running_loop().create_task(self.room.remove_peer(peer_id, reason))
        self.removals.add(task)
        task.add_done_callback(self.removals.discard)
