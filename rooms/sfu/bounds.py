"""The Room's checks on what one peer may say and how often (DESIGN.md invariants 5 and 6).

Each check raises ``MediaEventError`` with a message naming the bound, so the sender
gets an ``error`` event and nothing changes; docs/protocol.md ("Bounds and refusals")
lists them. The numbers come from ``rooms.limits.Limits``, injected into the Room.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rooms import display_names, strictjson
from rooms.limits import Limits
from rooms.logtext import clip
from rooms.sfu.media_events import MediaEventError


def check_owned(peer_id: str, track_id: str) -> None:
    """A peer names only its own tracks: ``<peerId>:<anything>``, as membrane-webrtc-js builds them."""
    prefix = f"{peer_id}:"
    if not track_id.startswith(prefix) or len(track_id) == len(prefix):
        raise MediaEventError(
            f"track id {clip(track_id, 100)!r} is not yours (must start with '{prefix}')"
        )


def check_display_name(metadata: Mapping[str, Any], limits: Limits) -> None:
    """``displayName``, when present, passes the one display-name rule (rooms.display_names)."""
    if "displayName" not in metadata:
        return
    try:
        display_names.check_display_name(metadata["displayName"], limits.display_name_chars)
    except display_names.DisplayNameLength as error:
        raise MediaEventError(f"{error} (display_name_chars)") from None
    except ValueError as error:
        raise MediaEventError(str(error)) from None


def check_endpoint_metadata(metadata: Mapping[str, Any], limits: Limits) -> None:
    check_display_name(metadata, limits)
    if strictjson.encoded_size(metadata) > limits.endpoint_metadata_bytes:
        raise MediaEventError(
            f"metadata over {limits.endpoint_metadata_bytes} bytes (endpoint_metadata_bytes)"
        )


def check_track_metadata(track_id: str, metadata: Mapping[str, Any], limits: Limits) -> None:
    if strictjson.encoded_size(metadata) > limits.track_metadata_bytes:
        raise MediaEventError(
            f"metadata of track {clip(track_id, 100)!r} over {limits.track_metadata_bytes} bytes "
            "(track_metadata_bytes)"
        )


def check_offer_tracks(
    peer_id: str,
    mid_to_track_id: Mapping[str, str],
    track_metadata: Mapping[str, Mapping[str, Any]],
    limits: Limits,
) -> None:
    """The maps of an sdpOffer: own track ids only, each once, within tracks_per_peer."""
    named: Iterable[str] = [*mid_to_track_id.values(), *track_metadata]
    for track_id in named:
        check_owned(peer_id, track_id)
    sent = list(mid_to_track_id.values())
    if len(set(sent)) != len(sent):
        raise MediaEventError("midToTrackId names a track on two m-lines")
    if len(sent) > limits.tracks_per_peer:
        raise MediaEventError(f"more than {limits.tracks_per_peer} tracks (tracks_per_peer)")
    for track_id, metadata in track_metadata.items():
        check_track_metadata(track_id, metadata, limits)


class EventBucket:
    """A token bucket: ``burst`` events at once, refilled at ``rate`` per second.

    ``take`` answers whether one more event may pass. ``should_warn`` is true for the
    first refused event after an accepted one, so a flood earns one ``error`` event,
    not one per dropped event.
    """

    def __init__(
        self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = float(burst)
        self._rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._warned = False
        self.dropped = 0

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self._warned = False
            return True
        self.dropped += 1
        return False

    def should_warn(self) -> bool:
        warn, self._warned = not self._warned, True
        return warn
