"""What the hostile peers send, each as large as the server's bounds (``Limits``) allow.

The SDP offer starts from a real aiortc offer with ``offer_media_sections`` recvonly
video m-lines, then gets the codec list a Chrome offer carries (VP9, AV1, more H.264
profiles, RED, ULPFEC, each with its RTX) added m-line by m-line until it is just under
``sdp_bytes``: ~4 KB per m-line, as docs/protocol.md measures Chrome's.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

from rooms.limits import Limits
from rooms.strictjson import encoded_size

# (encoding name, fmtp or "", whether an RTX payload type goes with it): Chrome's extras.
_CHROME_VIDEO_CODECS = [
    ("VP9/90000", "profile-id=0", True),
    ("VP9/90000", "profile-id=2", True),
    ("VP9/90000", "profile-id=1", True),
    ("VP9/90000", "profile-id=3", True),
    ("AV1/90000", "level-idx=5;profile=0;tier=0", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f", True),
    ("H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f", True),
    ("H265/90000", "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST", True),
    ("red/90000", "", True),
    ("ulpfec/90000", "", False),
]
_FEEDBACK = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]
# Dynamic payload types aiortc's own offer leaves free (it uses 96-102).
_FREE_PAYLOAD_TYPES = [*range(35, 64), *range(103, 128)]
# Left free under the bound for the frame around the SDP.
_MARGIN_BYTES = 512
# Metadata stays this far under its bound: "at most" and "less than" both accept it.
_EDGE_MARGIN_BYTES = 8


def _codec_lines(name: str, fmtp: str, rtx: bool, types: Any) -> tuple[list[int], list[str]]:
    pt = next(types)
    lines = [f"a=rtpmap:{pt} {name}"]
    if not name.startswith(("red", "ulpfec")):
        lines += [f"a=rtcp-fb:{pt} {fb}" for fb in _FEEDBACK]
    if fmtp:
        lines.append(f"a=fmtp:{pt} {fmtp}")
    pts = [pt]
    if rtx:
        rtx_pt = next(types)
        lines += [f"a=rtpmap:{rtx_pt} rtx/90000", f"a=fmtp:{rtx_pt} apt={pt}"]
        pts.append(rtx_pt)
    return pts, lines


def _grow_section(section: list[str], pts: list[int], lines: list[str]) -> None:
    """Add payload types to the m= line and their lines before the ICE attributes."""
    section[0] += "".join(f" {pt}" for pt in pts)
    at = next(i for i, line in enumerate(section) if line.startswith("a=ice-ufrag:"))
    section[at:at] = lines


async def largest_offer(limits: Limits) -> str:
    """A recvonly offer with ``offer_media_sections`` m-lines, just under ``sdp_bytes``."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        for _ in range(limits.offer_media_sections):
            pc.addTransceiver("video", direction="recvonly")
        sdp = (await pc.createOffer()).sdp
    finally:
        await pc.close()
    head, *bodies = sdp.split("\r\nm=")
    sections = [f"m={body}".split("\r\n") for body in bodies]
    sections[-1] = [line for line in sections[-1] if line]
    size = len(sdp.encode())
    target = limits.sdp_bytes - _MARGIN_BYTES
    # Round robin, codec by codec, so that every m-line grows alike until the bound.
    types = [iter(_FREE_PAYLOAD_TYPES) for _ in sections]
    for (name, fmtp, rtx), (index, section) in itertools.product(
        _CHROME_VIDEO_CODECS, enumerate(sections)
    ):
        pts, lines = _codec_lines(name, fmtp, rtx, types[index])
        extra = sum(len(line) + 2 for line in lines) + sum(len(f" {pt}") for pt in pts)
        if size + extra > target:
            break
        _grow_section(section, pts, lines)
        size += extra
    text = "\r\n".join([head, *("\r\n".join(section) for section in sections)]) + "\r\n"
    assert len(text.encode()) <= limits.sdp_bytes
    return text


def offer_event(sdp: str, mid_to_track_id: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``custom/sdpOffer`` media event carrying ``sdp``."""
    own = mid_to_track_id or {}
    return {
        "type": "custom",
        "data": {
            "type": "sdpOffer",
            "data": {
                "sdpOffer": {"type": "offer", "sdp": sdp},
                "trackIdToTrackMetadata": {
                    track_id: {"type": "camera", "active": True} for track_id in own.values()
                },
                "trackIdToTrackBitrates": {},
                "midToTrackId": own,
            },
        },
    }


def largest_metadata(limits: Limits, display_name: str) -> dict[str, Any]:
    """Endpoint metadata just under ``endpoint_metadata_bytes`` as compact JSON.

    A few bytes under, so that the flood is accepted whether the bound's edge counts as
    in or out. The padding is double quotes: each is 2 bytes in the metadata (``\\"``)
    and 4 in the frame that carries the event as a JSON string (``\\\\\\"``), however
    the server encodes non-ASCII text, so every byte the sender is allowed costs the
    readers 2.
    """
    metadata: dict[str, Any] = {"displayName": display_name, "pad": ""}
    room = limits.endpoint_metadata_bytes - _EDGE_MARGIN_BYTES - encoded_size(metadata)
    metadata["pad"] = '"' * (room // 2) + "x" * (room % 2)
    assert encoded_size(metadata) == limits.endpoint_metadata_bytes - _EDGE_MARGIN_BYTES
    return metadata


def metadata_event(metadata: dict[str, Any]) -> dict[str, Any]:
    return {"type": "updateEndpointMetadata", "data": {"metadata": metadata}}


def connect_event(display_name: str) -> dict[str, Any]:
    return {"type": "connect", "data": {"metadata": {"displayName": display_name}}}


# Python's json writes these; JSON.parse refuses them (so does the strict reader).
NAN_METADATA_EVENT = (
    '{"type":"updateEndpointMetadata","data":{"metadata":'
    '{"displayName":"poisoner","volume":NaN,"gain":Infinity,"floor":-Infinity}}}'
)


def lone_surrogate_join(topic: str, ref: str) -> str:
    """A phx_join whose displayName is the JSON escape of a lone surrogate (U+D800)."""
    head = json.dumps([ref, ref, topic, "phx_join"])[:-1]
    return head + ',{"displayName":"\\ud800"}]'
