"""What the largest offer the bounds allow costs the room worker's event loop.

Builds a Chrome-like offer at the limits (``offer_media_sections`` m-lines, padded with
Chrome's codec list up to ``sdp_bytes``), then times, with time.perf_counter, each step
of ``Endpoint.apply_offer`` on a fresh endpoint (first offer) and on a renegotiation of
the same endpoint. ``--profile`` prints the top of a cProfile of one renegotiation.

    DJANGO_DEBUG=false DJANGO_SECRET_KEY=x REDIS_URL= .venv/bin/python scripts/sdp_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rooms.limits import Limits
from rooms.sfu.addresses import policy_for
from rooms.sfu.config import MediaConfig
from rooms.sfu.endpoint import Endpoint
from rooms.sfu.media_events import SdpOffer
from rooms.sfu.offer_screen import screen_offer

FINGERPRINT = ":".join(["AB"] * 32)
# Chrome 12x's video codec list (no codec preferences): VP8, VP9 x4, H264 x6, AV1, each
# with its RTX, plus red/ulpfec; this is what makes a Chrome video m-line ~3-4 KB.
VIDEO_CODECS = [
    (96, "VP8/90000", ""),
    (98, "VP9/90000", "profile-id=0"),
    (100, "VP9/90000", "profile-id=2"),
    (102, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
    (104, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f"),
    (106, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
    (108, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
    (110, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
    (112, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
    (114, "AV1/90000", "level-idx=5;profile=0;tier=0"),
    (116, "VP9/90000", "profile-id=1"),
    (118, "VP9/90000", "profile-id=3"),
]
EXTMAPS = [
    "urn:ietf:params:rtp-hdrext:toffset",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:3gpp:video-orientation",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
    "http://www.webrtc.org/experiments/rtp-hdrext/color-space",
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
]


def video_section(mid: int, direction: str, ssrc: int) -> list[str]:
    pts = [str(pt) for pt, _, _ in VIDEO_CODECS] + [str(pt + 1) for pt, _, _ in VIDEO_CODECS]
    lines = [
        f"m=video 9 UDP/TLS/RTP/SAVPF {' '.join(pts)} 123 124 125",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {FINGERPRINT}",
        "a=setup:actpass",
        f"a=mid:{mid}",
    ]
    lines += [f"a=extmap:{i + 1} {uri}" for i, uri in enumerate(EXTMAPS)]
    lines += [f"a={direction}", "a=rtcp-mux", "a=rtcp-rsize"]
    if direction == "sendonly":
        lines.append(f"a=msid:stream{mid} track{mid}")
    for pt, name, fmtp in VIDEO_CODECS:
        lines += [
            f"a=rtpmap:{pt} {name}",
            f"a=rtcp-fb:{pt} goog-remb",
            f"a=rtcp-fb:{pt} transport-cc",
            f"a=rtcp-fb:{pt} ccm fir",
            f"a=rtcp-fb:{pt} nack",
            f"a=rtcp-fb:{pt} nack pli",
        ]
        if fmtp:
            lines.append(f"a=fmtp:{pt} {fmtp}")
        lines += [f"a=rtpmap:{pt + 1} rtx/90000", f"a=fmtp:{pt + 1} apt={pt}"]
    lines += [
        "a=rtpmap:123 red/90000",
        "a=rtpmap:124 rtx/90000",
        "a=fmtp:124 apt=123",
        "a=rtpmap:125 ulpfec/90000",
    ]
    if direction == "sendonly":
        lines += [
            f"a=ssrc-group:FID {ssrc} {ssrc + 1}",
            f"a=ssrc:{ssrc} cname:abcdefghijklmnop",
            f"a=ssrc:{ssrc} msid:stream{mid} track{mid}",
            f"a=ssrc:{ssrc + 1} cname:abcdefghijklmnop",
            f"a=ssrc:{ssrc + 1} msid:stream{mid} track{mid}",
        ]
    return lines


def largest_offer(limits: Limits, sections: int | None = None) -> tuple[str, dict[str, str]]:
    """``sections`` Chrome video m-lines: the peer's own tracks sendonly, the rest recvonly."""
    count = sections or limits.offer_media_sections
    session = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE " + " ".join(str(i) for i in range(count)),
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS",
    ]
    body: list[str] = []
    mids: dict[str, str] = {}
    for mid in range(count):
        own = mid < limits.tracks_per_peer
        body += video_section(mid, "sendonly" if own else "recvonly", 1000 + 10 * mid)
        if own:
            mids[str(mid)] = f"p:{mid}"
    sdp = "\r\n".join(session + body) + "\r\n"
    return sdp, mids


async def timed_apply(endpoint: Endpoint, offer: SdpOffer) -> dict[str, float]:
    pc = endpoint.pc
    marks: dict[str, float] = {}
    originals = {
        name: getattr(pc, name)
        for name in ("setRemoteDescription", "createAnswer", "setLocalDescription")
    }

    def wrap(name: str):  # type: ignore[no-untyped-def]
        async def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return await originals[name](*args, **kwargs)
            finally:
                marks[name] = time.perf_counter() - start

        return timed

    for name in originals:
        setattr(pc, name, wrap(name))
    start = time.perf_counter()
    await endpoint.apply_offer(offer)
    marks["apply_offer"] = time.perf_counter() - start
    for name in originals:
        delattr(pc, name)
    return marks


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    limits = Limits()
    sdp, mids = largest_offer(limits, args.sections)
    count = args.sections or limits.offer_media_sections
    while len(sdp.encode()) > limits.sdp_bytes:  # as many m-lines as sdp_bytes allows
        count -= 1
        sdp, mids = largest_offer(limits, count)
    sections = sdp.count("\r\nm=")
    print(f"offer: {len(sdp.encode())} bytes, {sections} m-lines (limits: {limits.sdp_bytes} B)")
    start = time.perf_counter()
    screened = screen_offer(sdp, limits, policy_for(MediaConfig()))
    print(f"screen_offer: {(time.perf_counter() - start) * 1000:.1f} ms")
    offer = SdpOffer(sdp=screened.sdp, track_metadata={}, mid_to_track_id=mids, track_bitrates={})
    firsts, agains = [], []
    for _ in range(args.rounds):
        endpoint = Endpoint("bench", "p", config=MediaConfig(), on_failure=lambda: None)
        firsts.append(await timed_apply(endpoint, offer))
        agains.append(await timed_apply(endpoint, offer))
        if args.profile and len(agains) == args.rounds:
            profile = cProfile.Profile()
            profile.enable()
            await endpoint.apply_offer(offer)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        await endpoint.close()
    for label, runs in (("first offer", firsts), ("renegotiation", agains)):
        print(f"{label} (median of {len(runs)}, ms):")
        for step in ("setRemoteDescription", "createAnswer", "setLocalDescription", "apply_offer"):
            values = [run[step] * 1000 for run in runs]
            print(f"  {step:22} {statistics.median(values):7.1f}  (max {max(values):.1f})")


if __name__ == "__main__":
    asyncio.run(main())
