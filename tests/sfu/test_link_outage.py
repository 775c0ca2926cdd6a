"""After a 2 s outage of a subscriber's link, its keyframe request brings its video back.

Bob's connection is cut both ways for ``OUTAGE_SECONDS`` by dropping every datagram its
ICE transport sends or receives (aioice's STUN consent checks go around it and go on: a
2 s cut is far inside every consent timeout anyway). The worker keeps forwarding into the
void. Alice publishes a key frame only when asked, so a key frame after the cut proves the
keyframe path: Bob's aiortc receiver sends a PLI, the worker relays it to Alice
(rate-limited in rooms/sfu/forwarding.py) and her key frame restarts Bob's video.

What the worker controls is asserted: every PLI Bob sends after the cut reaches Alice
within the rate limit, and a key frame reaches Bob after it. The times from the link's
return are printed, not bounded: aiortc's receiver, unlike Chromium's, sends its PLI only
when its 128-packet jitter buffer overflows or gives up on a frame, up to ~3.9 s after the
cut when the NACKed packets do not complete a frame, and can drop the key frame that
answers it the same way (docs/benchmarks.md, "Lossy links").
tests/browser/test_link_outage.py measures the same cut with Chromium, which recovers
within 0.2 s by NACKs answered from the worker's history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from aiortc import RTCIceTransport, RTCPeerConnection

from rooms.sfu.forwarding import KEYFRAME_INTERVAL
from tests.sfu.client import EncodedVideoTrack
from tests.sfu.conftest import Harness, settle
from tests.sfu.encoded_receiver import is_vp8_keyframe

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}
OUTAGE_SECONDS = 2.0
RUNS = 3
_RTCP_PSFB = 206
_PLI = 1


class TimedCamera(EncodedVideoTrack):
    """EncodedVideoTrack noting when each keyframe request reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.request_times: list[float] = []

    def request_keyframe(self) -> None:
        self.request_times.append(time.monotonic())
        super().request_keyframe()


class Link:
    """Bob's side of his bundle transport: can be cut; notes when he sends a PLI."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        # Test-only use of RTCIceTransport's private _send/_recv, which RTCDtlsTransport
        # calls for every DTLS, SRTP and SRTCP datagram.
        transport = pc.getTransceivers()[0].receiver.transport.transport
        assert isinstance(transport, RTCIceTransport)
        ice: Any = transport
        self._send, self._recv = ice._send, ice._recv
        ice._send, ice._recv = self._sending, self._receiving
        self.cut = False
        self.pli_times: list[float] = []

    async def _sending(self, data: bytes) -> None:
        if self.cut:
            return
        # SRTCP leaves the first 8 bytes clear: packet type and feedback format.
        if len(data) > 1 and data[1] == _RTCP_PSFB and data[0] & 0x1F == _PLI:
            self.pli_times.append(time.monotonic())
        await self._send(data)

    async def _receiving(self) -> bytes:
        while True:
            data: bytes = await self._recv()
            if not self.cut:
                return data

    @contextmanager
    def outage(self) -> Iterator[None]:
        self.cut = True
        try:
            yield
        finally:
            self.cut = False


def more_than(frames: list[bytes], count: int) -> bool:
    return len(frames) > count


def has_key_frame(frames: list[bytes], start: int) -> bool:
    return any(is_vp8_keyframe(frame) for frame in frames[start:])


def first_after(times: list[float], moment: float) -> float | None:
    return next((t for t in times if t >= moment), None)


async def test_a_subscribers_keyframe_request_after_an_outage_brings_its_video_back(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    camera = TimedCamera()
    track_id = await alice.publish(camera, CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 30)
    assert bob.pc is not None
    link = Link(bob.pc)
    figures: list[dict[str, Any]] = []
    for _ in range(RUNS):
        await asyncio.sleep(1.5)  # past the PLI rate limit of the last recovery
        with link.outage():
            await asyncio.sleep(OUTAGE_SECONDS)
            frames = len(bob.received[track_id])
        restored = time.monotonic()
        await settle(partial(more_than, bob.received[track_id], frames), 10)
        recovered = time.monotonic()
        pli = first_after(link.pli_times, restored)
        request = first_after(camera.request_times, restored)
        key_frame = None
        if pli is not None:
            await settle(partial(has_key_frame, bob.received[track_id], frames), 10)
            key_frame = time.monotonic()
        figures.append(
            {
                "recovery_s": round(recovered - restored, 3),
                "subscriber_pli_s": None if pli is None else round(pli - restored, 3),
                "publisher_request_s": None if request is None else round(request - restored, 3),
                "key_frame_s": None if key_frame is None else round(key_frame - restored, 3),
            }
        )
    print(f"\naiortc link-outage figures: {figures}")
    for run in figures:
        pli = run["subscriber_pli_s"]
        if pli is None:
            continue  # repaired by NACKs alone: no keyframe request
        assert run["publisher_request_s"] is not None, figures
        assert run["publisher_request_s"] - pli <= KEYFRAME_INTERVAL, figures
        assert run["key_frame_s"] is not None, figures
    assert any(run["key_frame_s"] is not None for run in figures), "no keyframe path taken"
