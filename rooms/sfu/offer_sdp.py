"""What the Endpoint checks and reads in a parsed client offer, besides aiortc.

aiortc trusts an offer's structure (mids, BUNDLE groups) and negotiates every codec both
sides know; the forwarder needs one codec per kind and the publisher's SSRC.
"""

from __future__ import annotations

from aiortc import RTCRtpTransceiver
from aiortc import sdp as aiortc_sdp

from rooms.sfu import aiortc_hooks
from rooms.sfu.peer_media import InvalidOffer

# Passthrough needs one codec per kind on every leg (feasibility pitfall 8).
FORWARDED_CODECS = {"audio": "audio/opus", "video": "video/vp8"}
# The same as codec names, as sdp_text.keep_codecs takes them.
CODEC_NAMES = {kind: mime.split("/")[1] for kind, mime in FORWARDED_CODECS.items()}


def keep_forwarded_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Keep only the forwarded codec (and its RTX) of a transceiver, after setRemoteDescription."""
    wanted = FORWARDED_CODECS.get(transceiver.kind)
    codecs = aiortc_hooks.transceiver_codecs(transceiver)
    kept = [c for c in codecs if c.mimeType.lower() == wanted]
    types = {c.payloadType for c in kept}
    kept += [
        c
        for c in codecs
        if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in types
    ]
    if not kept:
        raise InvalidOffer(f"no {wanted} in the {transceiver.kind} m-line {transceiver.mid}")
    aiortc_hooks.keep_codecs(transceiver, kept)


def check_mids(description: aiortc_sdp.SessionDescription) -> None:
    """What aiortc assumes without checking: one distinct a=mid per m-line, and BUNDLE
    groups naming only those (a group led by an unknown mid leaves the bundled m-lines
    without any transport, and every later step fails on None)."""
    mids = [media.rtp.muxId for media in description.media]
    if not all(mids) or len(set(mids)) != len(mids):
        raise InvalidOffer("every m-line needs its own a=mid")
    for group in description.group:
        if group.semantic == "BUNDLE" and not set(group.items) <= set(mids):
            raise InvalidOffer("a=group:BUNDLE names a mid no m-line has")


def media_ssrc(sdp: aiortc_sdp.SessionDescription, mid: str) -> int | None:
    """The publisher's media SSRC for ``mid``: first of its FID group, else its first a=ssrc."""
    for media in sdp.media:
        if media.rtp.muxId != mid:
            continue
        for group in media.ssrc_group:
            if group.semantic == "FID" and group.items:
                return int(group.items[0])
        return media.ssrc[0].ssrc if media.ssrc else None
    return None
