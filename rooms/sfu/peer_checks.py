"""The Room's checks of what one peer sends, before any state changes or aiortc work.

Each function raises ``MediaEventError`` (an ``error`` event for the sender, nothing
changed) or returns what the Room may use: metadata with the authoritative name, an offer
trimmed to its usable candidates, a candidate worth adding.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from rooms.display_names import DEFAULT_DISPLAY_NAME
from rooms.limits import Limits
from rooms.logtext import clip
from rooms.sfu import bounds
from rooms.sfu import media_events as ev
from rooms.sfu.addresses import RemoteAddressPolicy
from rooms.sfu.candidates import RemoteCandidate, parse_candidate, unusable_reason
from rooms.sfu.members import Member
from rooms.sfu.offer_screen import RefusedOffer, screen_offer

logger = logging.getLogger(__name__)


def endpoint_metadata(member: Member, metadata: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Checked metadata, with the name checked at join, which stays authoritative (the
    admin and the participation history know the peer by it). A peer that joined without
    one (stock Membrane clients name themselves in ``connect``) keeps its first name."""
    bounds.check_endpoint_metadata(metadata, limits)
    name = (
        member.info.display_name
        or member.metadata.get("displayName")
        or str(metadata.get("displayName", "")).strip()
        or DEFAULT_DISPLAY_NAME
    )
    return {**metadata, "displayName": name}


def checked_offer(
    member: Member, offer: ev.SdpOffer, limits: Limits, policy: RemoteAddressPolicy, label: str
) -> ev.SdpOffer:
    """Own tracks only, within the bounds; the SDP trimmed to its usable candidates."""
    bounds.check_offer_tracks(member.peer_id, offer.mid_to_track_id, offer.track_metadata, limits)
    screened = screen_offer(offer.sdp, limits, policy, label=label)
    # aiortc keeps a transceiver per mid ever offered, and a new one costs ~1 ms (its
    # receiver's bitrate estimator alone builds 1,000 objects): the bound holds per
    # connection, not just per offer, or renamed mids would grow it without end.
    mids = member.offered_mids | screened.mids
    if len(mids) > limits.offer_media_sections:
        raise RefusedOffer(
            f"more than {limits.offer_media_sections} m-lines on one connection "
            "(offer_media_sections)"
        )
    member.count_candidates(screened.candidates, screened.addresses, limits, new_negotiation=True)
    member.offered_mids = mids
    return dataclasses.replace(offer, sdp=screened.sdp)


def checked_candidate(
    member: Member, event: ev.Candidate, limits: Limits, policy: RemoteAddressPolicy, label: str
) -> RemoteCandidate | None:
    """A well-formed candidate within the bounds; None if it is of no use (dropped quietly:
    browsers trickle candidates the worker cannot use, and an error would end their call)."""
    candidate = parse_candidate(event.candidate)
    reason = unusable_reason(candidate, policy)
    usable = [(candidate.host, candidate.port)] if reason is None else []
    member.count_candidates(1, usable, limits, new_negotiation=False)
    if reason is not None:
        logger.info("%s: candidate %s dropped: %s", label, clip(event.candidate), reason)
        return None
    return candidate
