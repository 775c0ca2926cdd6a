"""Two in-process aiortc peers on this host, for the aiortc_hooks guard tests.

The ``client`` offers (as the browser does), the ``worker`` answers; both use explicit
empty ICE servers (host candidates only, never a public STUN server) and max-bundle.
Between ``offer`` and ``answer`` a test applies the hook it guards to the worker side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack

from tests.sfu.client import EncodedVideoTrack


def new_peer() -> RTCPeerConnection:
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


async def offer(
    client: RTCPeerConnection,
    worker: RTCPeerConnection,
    edit: Callable[[str], str] = lambda sdp: sdp,
) -> None:
    """The client's offer, through ``edit``, becomes the worker's remote description."""
    await client.setLocalDescription(await client.createOffer())
    await worker.setRemoteDescription(
        RTCSessionDescription(edit(client.localDescription.sdp), "offer")
    )


async def answer(client: RTCPeerConnection, worker: RTCPeerConnection) -> None:
    await worker.setLocalDescription(await worker.createAnswer())
    await client.setRemoteDescription(worker.localDescription)


async def eventually(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``predicate()`` holds; generous for a loaded 2-core machine."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def connected(*pcs: RTCPeerConnection) -> None:
    await eventually(lambda: all(pc.connectionState == "connected" for pc in pcs))


def media_sections(sdp: str) -> list[Any]:
    return list(aiortc_sdp.SessionDescription.parse(sdp).media)


def sdp_ssrc(sdp: str, index: int = 0) -> int:
    """The first a=ssrc of m-line ``index``: the SSRC its sender signals."""
    ssrc: int = media_sections(sdp)[index].ssrc[0].ssrc
    return ssrc


async def stats_of(endpoint: RTCRtpSender | RTCRtpReceiver, kind: str) -> list[Any]:
    """The getStats entries of one type (e.g. ``"remote-outbound-rtp"``)."""
    report = await endpoint.getStats()
    return [s for s in report.values() if s.type == kind]


class FiniteEncodedVideo(EncodedVideoTrack):
    """Pre-encoded VP8 frames (a keyframe first), ``count`` of them, then nothing."""

    def __init__(self, count: int) -> None:
        super().__init__(fps=50)
        self._count = count

    async def recv(self) -> av.Packet:
        if len(self.sent) >= self._count:
            await asyncio.Event().wait()  # until the sender stops and cancels this
        return await super().recv()


class TinyCamera(VideoStreamTrack):
    """64x64 grey frames at 30 fps for aiortc's own VP8 encoder (cheap to encode)."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=64, height=64, format="yuv420p")
        for plane in frame.planes:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


class UnreadTrack(MediaStreamTrack):
    """A track that counts how often it is read: a taken-over sender must never read it."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def recv(self) -> av.Packet:
        self.reads += 1
        raise MediaStreamError
