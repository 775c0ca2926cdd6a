"""A client's SDP offer, checked and trimmed as text before aiortc sees it.

aiortc parses an offer, builds transceivers for every m-line and answers it without
bounds; its cost grows with the m-lines (docs/benchmarks.md "Hostile peers"). So sizes
and counts are checked here first, in plain string work, and an offer past a bound
costs no aiortc work at all. Line endings are normalised to CRLF (aiortc splits on every
Unicode line break, the text helpers on CRLF: both must see the same lines), and the
offer's ``a=candidate`` lines are kept only if usable (rooms/sfu/candidates.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rooms.limits import Limits
from rooms.logtext import clip
from rooms.sfu.addresses import RemoteAddressPolicy
from rooms.sfu.candidates import InvalidCandidate, parse_candidate, unusable_reason
from rooms.sfu.media_events import MediaEventError

logger = logging.getLogger(__name__)

# The only m-line kinds the SFU forwards; "application" would start an SCTP association.
_MEDIA_KINDS = ("m=audio ", "m=video ")


class RefusedOffer(MediaEventError):
    """An offer past a bound or not an SDP offer at all; no aiortc work was done."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"invalid sdpOffer: {problem}")


@dataclass(frozen=True)
class ScreenedOffer:
    sdp: str  # CRLF lines, unusable candidates removed
    media_sections: int
    candidates: int  # a=candidate lines the client sent, usable or not
    addresses: frozenset[tuple[str, int]]  # (address, port) of the usable ones
    mids: frozenset[str]  # the a=mid values: aiortc makes a transceiver for each new one


def screen_offer(
    sdp: str, limits: Limits, policy: RemoteAddressPolicy, *, label: str = ""
) -> ScreenedOffer:
    """Check an offer's size and shape; drop unusable candidates. Raises RefusedOffer."""
    if len(sdp) > limits.sdp_bytes or len(sdp.encode("utf-8")) > limits.sdp_bytes:
        raise RefusedOffer(f"over {limits.sdp_bytes} bytes (sdp_bytes)")
    lines = sdp.splitlines()
    if not lines or lines[0] != "v=0":
        raise RefusedOffer("not an SDP description (must start with v=0)")
    media = [line for line in lines if line.startswith("m=")]
    if not media:
        raise RefusedOffer("no media sections")
    if len(media) > limits.offer_media_sections:
        raise RefusedOffer(
            f"more than {limits.offer_media_sections} m-lines (offer_media_sections)"
        )
    if not all(line.startswith(_MEDIA_KINDS) for line in media):
        raise RefusedOffer("only audio and video m-lines are accepted")
    kept: list[str] = []
    candidates = 0
    addresses: set[tuple[str, int]] = set()
    mids = frozenset(line[len("a=mid:") :] for line in lines if line.startswith("a=mid:"))
    for line in lines:
        if line.startswith("a=candidate:"):
            candidates += 1
            if candidates > limits.candidates_per_negotiation:
                raise RefusedOffer(
                    f"more than {limits.candidates_per_negotiation} candidates "
                    "(candidates_per_negotiation)"
                )
            try:
                candidate = parse_candidate(line)
                reason = unusable_reason(candidate, policy)
            except InvalidCandidate as exc:
                reason = exc.message
            if reason is not None:
                logger.info("%s: offer candidate %s dropped: %s", label, clip(line), reason)
                continue
            addresses.add((candidate.host, candidate.port))
        kept.append(line)
    return ScreenedOffer(
        sdp="\r\n".join(kept) + "\r\n",
        media_sections=len(media),
        candidates=candidates,
        addresses=frozenset(addresses),
        mids=mids,
    )
