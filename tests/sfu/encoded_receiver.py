"""Test clients' receive side: a track yields encoded frames, reassembled but not decoded.

The SFU forwards RTP packets and never reassembles frames; the in-process test clients
want whole frames to compare with what was published. aiortc 1.16 reassembles each received frame in a jitter buffer and hands it to a thread
running the module-level ``aiortc.rtcrtpreceiver.decoder_worker``, looked up by name when
``RTCRtpReceiver.receive()`` starts it. ``install()`` replaces that name with a dispatcher:
for a track registered with ``mark_passthrough`` the thread turns every reassembled frame
into an ``av.Packet`` (depayloaded bytes, ``pts`` = RTP timestamp, ``time_base`` =
1/clock rate) instead of decoding it. Any other track keeps aiortc's decoder. A sender
given such packets takes its ``encoder.pack()`` path and re-packetizes without encoding.

Private aiortc names used here are checked by tests/sfu/test_aiortc_hooks.py.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import weakref
from fractions import Fraction
from typing import Any

import av
from aiortc import rtcrtpreceiver
from aiortc.mediastreams import MediaStreamTrack

logger = logging.getLogger(__name__)

_original_worker = rtcrtpreceiver.decoder_worker
# Output queues of RemoteStreamTracks whose frames must stay encoded.
_passthrough_queues: weakref.WeakSet[asyncio.Queue[Any]] = weakref.WeakSet()
_install_lock = threading.Lock()


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 section 9.1: bit 0 of the frame tag is 0 for a key frame."""
    return bool(data) and (data[0] & 0x01) == 0


def mark_passthrough(track: MediaStreamTrack) -> None:
    """Have this RemoteStreamTrack yield encoded ``av.Packet`` objects instead of frames.

    Must run before the receiver starts (before its DTLS transport connects), which is
    the case right after ``setRemoteDescription`` returns.
    """
    out = getattr(track, "_queue", None)
    if not isinstance(out, asyncio.Queue):
        raise TypeError("not an aiortc RemoteStreamTrack")
    _passthrough_queues.add(out)


def _encoded_worker(
    loop: asyncio.AbstractEventLoop, input_q: queue.Queue[Any], output_q: asyncio.Queue[Any]
) -> None:
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            return
        codec, encoded_frame = task
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = Fraction(1, codec.clockRate)
        packet.is_keyframe = codec.mimeType.lower() != "video/vp8" or is_vp8_keyframe(
            encoded_frame.data
        )
        asyncio.run_coroutine_threadsafe(output_q.put(packet), loop)


def _dispatching_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    *rest: Any,
) -> None:
    # *rest: aiortc 1.16 added a decode-error Event as 4th argument; keep passing it on.
    if output_q in _passthrough_queues:
        _encoded_worker(loop, input_q, output_q)
    else:
        _original_worker(loop, input_q, output_q, *rest)


def install() -> None:
    """Patch aiortc's receive path once per process (idempotent)."""
    with _install_lock:
        if rtcrtpreceiver.decoder_worker is not _dispatching_worker:
            rtcrtpreceiver.decoder_worker = _dispatching_worker  # type: ignore[assignment]
            logger.debug("aiortc decoder_worker patched for passthrough")
