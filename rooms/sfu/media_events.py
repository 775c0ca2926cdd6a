"""Media events of the Membrane RTC Engine WebRTC endpoint dialect (client 0.5.3 / 0.7.1).

Every event is a JSON object ``{"type": ..., "data": ...}`` carried as the string in a
Phoenix ``mediaEvent`` payload. WebRTC-specific events are wrapped in
``{"type": "custom", "data": {"type": <inner>, "data": ...}}`` in both directions.
Client events are parsed strictly into frozen dataclasses (``parse_client_event``);
server events are built only by the serializers at the bottom. docs/protocol.md ("Media events")
describes every event and the order rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rooms import strictjson
from rooms.logtext import clip

TrackKind = Literal["audio", "video"]

# Bound on the raw event size, in characters, as the socket's 1 MiB frame limit: an SDP
# offer has one m-line per remote track, ~3-4 KB each for Chrome video without codec
# preferences, so offers reach ~60-110 KB in a room of 12.
MAX_EVENT_CHARS = 1024 * 1024


class MediaEventError(ValueError):
    """A client media event that cannot be accepted; ``message`` goes into an ``error`` event."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- client -> server ---------------------------------------------------------------


@dataclass(frozen=True)
class Connect:
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class UpdateEndpointMetadata:
    metadata: dict[str, Any]


@dataclass(frozen=True)
class UpdateTrackMetadata:
    track_id: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class RenegotiateTracks:
    pass


@dataclass(frozen=True)
class SdpOffer:
    sdp: str
    track_metadata: dict[str, dict[str, Any]]  # trackIdToTrackMetadata, own send tracks only
    mid_to_track_id: dict[str, str]  # own send transceivers only
    track_bitrates: dict[str, Any]  # trackIdToTrackBitrates, accepted and unused


@dataclass(frozen=True)
class Candidate:
    candidate: str  # "candidate:..." as produced by RTCIceCandidate.candidate
    sdp_m_line_index: int | None
    sdp_mid: str | None


@dataclass(frozen=True)
class ModerateTrack:
    """A moderator mutes (or unmutes) another peer's track for everyone."""

    peer_id: str
    track_id: str
    muted: bool


@dataclass(frozen=True)
class RemovePeer:
    """A moderator removes another peer from the room."""

    peer_id: str


@dataclass(frozen=True)
class Unsupported:
    """A well-formed event this server accepts and ignores (simulcast, display manager)."""

    name: str


ClientEvent = (
    Connect
    | Disconnect
    | UpdateEndpointMetadata
    | UpdateTrackMetadata
    | RenegotiateTracks
    | SdpOffer
    | Candidate
    | ModerateTrack
    | RemovePeer
    | Unsupported
)

# Bounds on the ids a moderator event names, in characters: peer ids are the server's own
# (rooms.names, 40), track ids the client's (``<peerId>:<uuid>``, 59 from membrane-webrtc-js).
MAX_PEER_ID_CHARS = 40
MAX_TRACK_ID_CHARS = 200

_IGNORED_TOP = frozenset({"enableTrackEncoding", "disableTrackEncoding"})
_IGNORED_CUSTOM = frozenset(
    {
        "setTargetTrackVariant",
        "trackVariantBitrates",
        "prioritizeTrack",
        "unprioritizeTrack",
        "preferedVideoSizes",  # sic: the spelling on the wire
    }
)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MediaEventError(f"{what} must be an object")
    return value


def _metadata(value: Any, what: str) -> dict[str, Any]:
    # The JS client leaves metadata undefined when the app passes none; JSON drops it.
    return {} if value is None else _object(value, what)


def _optional_object(container: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    return {} if value is None else _object(value, key)


def _string(container: Mapping[str, Any], key: str, what: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise MediaEventError(f"{what}.{key} must be a non-empty string")
    return value


def _bounded_string(container: Mapping[str, Any], key: str, what: str, limit: int) -> str:
    value = _string(container, key, what)
    if len(value) > limit:
        raise MediaEventError(f"{what}.{key} over {limit} characters")
    return value


def _string_map(value: Any, what: str) -> dict[str, str]:
    mapping = _object({} if value is None else value, what)
    if not all(isinstance(v, str) and v for v in mapping.values()):
        raise MediaEventError(f"{what} values must be non-empty strings")
    return dict(mapping)


def _parse_custom(data: Any) -> ClientEvent:
    inner = _object(data, "custom data")
    kind = inner.get("type")
    body = inner.get("data")
    if kind == "renegotiateTracks":
        return RenegotiateTracks()
    if kind == "sdpOffer":
        body = _object(body, "sdpOffer data")
        offer = _object(body.get("sdpOffer"), "sdpOffer.sdpOffer")
        if offer.get("type") != "offer":
            raise MediaEventError("sdpOffer.sdpOffer.type must be 'offer'")
        metadata = _optional_object(body, "trackIdToTrackMetadata")
        return SdpOffer(
            sdp=_string(offer, "sdp", "sdpOffer.sdpOffer"),
            track_metadata={
                str(k): _metadata(v, "trackIdToTrackMetadata value") for k, v in metadata.items()
            },
            mid_to_track_id=_string_map(body.get("midToTrackId"), "midToTrackId"),
            track_bitrates=_optional_object(body, "trackIdToTrackBitrates"),
        )
    if kind == "candidate":
        body = _object(body, "candidate data")
        index = body.get("sdpMLineIndex")
        mid = body.get("sdpMid")
        if index is not None and (
            not isinstance(index, int) or isinstance(index, bool) or index < 0
        ):
            raise MediaEventError("candidate.sdpMLineIndex must be a non-negative integer")
        if mid is not None and not isinstance(mid, str):
            raise MediaEventError("candidate.sdpMid must be a string")
        return Candidate(
            candidate=_string(body, "candidate", "candidate"), sdp_m_line_index=index, sdp_mid=mid
        )
    if kind == "moderateTrack":
        body = _object(body, "moderateTrack data")
        muted = body.get("muted")
        if not isinstance(muted, bool):
            raise MediaEventError("moderateTrack.muted must be true or false")
        return ModerateTrack(
            peer_id=_bounded_string(body, "peerId", "moderateTrack", MAX_PEER_ID_CHARS),
            track_id=_bounded_string(body, "trackId", "moderateTrack", MAX_TRACK_ID_CHARS),
            muted=muted,
        )
    if kind == "removePeer":
        body = _object(body, "removePeer data")
        return RemovePeer(peer_id=_bounded_string(body, "peerId", "removePeer", MAX_PEER_ID_CHARS))
    if kind in _IGNORED_CUSTOM:
        return Unsupported(name=str(kind))
    raise MediaEventError(f"unknown custom media event {clip(kind, 100)!r}")


def parse_client_event(raw: str) -> ClientEvent:
    """Parse one client media event string; raises MediaEventError with a short reason."""
    if len(raw) > MAX_EVENT_CHARS:
        raise MediaEventError("media event too large")
    try:
        # Strict: NaN, Infinity or a lone surrogate stored here would break every
        # browser's JSON.parse of what the room relays, and the admin.
        event = strictjson.loads(raw)
    except strictjson.StrictJSONError as exc:
        raise MediaEventError(f"media event is not valid JSON ({exc.reason})") from None
    event = _object(event, "media event")
    kind = event.get("type")
    data = event.get("data")
    if kind == "connect":
        return Connect(
            metadata=_metadata(_object(data, "connect data").get("metadata"), "metadata")
        )
    if kind == "disconnect":
        return Disconnect()
    if kind == "updateEndpointMetadata":
        body = _object(data, "updateEndpointMetadata data")
        return UpdateEndpointMetadata(metadata=_metadata(body.get("metadata"), "metadata"))
    if kind == "updateTrackMetadata":
        body = _object(data, "updateTrackMetadata data")
        return UpdateTrackMetadata(
            track_id=_string(body, "trackId", "updateTrackMetadata"),
            metadata=_metadata(body.get("trackMetadata"), "trackMetadata"),
        )
    if kind == "custom":
        return _parse_custom(data)
    if kind in _IGNORED_TOP:
        return Unsupported(name=str(kind))
    raise MediaEventError(f"unknown media event {clip(kind, 100)!r}")


# --- server -> client -----------------------------------------------------------------


@dataclass(frozen=True)
class EndpointView:
    """One visible endpoint as ``connected.otherEndpoints`` lists it."""

    id: str
    metadata: dict[str, Any]
    tracks: dict[str, dict[str, Any]]  # trackId -> track metadata


def _dump(kind: str, data: Any) -> str:
    # Everything sent was parsed strictly first, so this cannot meet NaN or a surrogate.
    return strictjson.dumps({"type": kind, "data": data})


def _custom(kind: str, data: Any) -> str:
    return _dump("custom", {"type": kind, "data": data})


def _tracks(tracks: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    # No simulcast: aiortc has no rid handling (reference 2.10).
    return {
        track_id: {
            "metadata": metadata,
            "simulcastConfig": {"enabled": False, "activeEncodings": [], "disabledEncodings": []},
        }
        for track_id, metadata in tracks.items()
    }


def _endpoint(view: EndpointView) -> dict[str, Any]:
    # Client 0.5.3 needs "tracks" present, <=0.5.1 reads the deprecated trackIdToMetadata.
    return {
        "id": view.id,
        "type": "webrtc",
        "metadata": view.metadata,
        "trackIdToMetadata": dict(view.tracks),
        "tracks": _tracks(view.tracks),
    }


def connected(endpoint_id: str, others: Sequence[EndpointView]) -> str:
    return _dump("connected", {"id": endpoint_id, "otherEndpoints": [_endpoint(v) for v in others]})


def endpoint_added(endpoint_id: str, metadata: dict[str, Any]) -> str:
    return _dump("endpointAdded", {"id": endpoint_id, "type": "webrtc", "metadata": metadata})


def endpoint_removed(endpoint_id: str, reason: str | None = None) -> str:
    """``reason`` only in the one sent to the removed endpoint itself (a RemovalReason value):
    membrane-webrtc-js ignores the extra field, the project's page tells the user why."""
    data: dict[str, Any] = {"id": endpoint_id}
    if reason is not None:
        data["reason"] = reason
    return _dump("endpointRemoved", data)


def endpoint_updated(endpoint_id: str, metadata: dict[str, Any]) -> str:
    return _dump("endpointUpdated", {"id": endpoint_id, "metadata": metadata})


def tracks_added(endpoint_id: str, tracks: Mapping[str, dict[str, Any]]) -> str:
    return _dump(
        "tracksAdded",
        {"endpointId": endpoint_id, "trackIdToMetadata": dict(tracks), "tracks": _tracks(tracks)},
    )


def tracks_removed(endpoint_id: str, track_ids: Sequence[str]) -> str:
    return _dump("tracksRemoved", {"endpointId": endpoint_id, "trackIds": list(track_ids)})


def track_updated(endpoint_id: str, track_id: str, metadata: dict[str, Any]) -> str:
    return _dump(
        "trackUpdated", {"endpointId": endpoint_id, "trackId": track_id, "metadata": metadata}
    )


def error(message: str) -> str:
    return _dump("error", {"message": message})


def offer_data(audio: int, video: int, turn_servers: Sequence[Mapping[str, Any]] = ()) -> str:
    """``turn_servers``: ``rooms.ice.integrated_turn_servers`` for the receiving peer. A stock
    membrane-webrtc-js client is relay-only and uses only the ones of its first offerData."""
    return _custom(
        "offerData",
        {
            "tracksTypes": {"audio": audio, "video": video},
            "integratedTurnServers": [dict(server) for server in turn_servers],
        },
    )


def sdp_answer(sdp: str, mid_to_track_id: Mapping[str, str]) -> str:
    return _custom(
        "sdpAnswer", {"type": "answer", "sdp": sdp, "midToTrackId": dict(mid_to_track_id)}
    )


def vad_notification(track_id: str, status: str) -> str:
    """Membrane's voice activity event: ``status`` is "speech" or "silence" (ref 2.3)."""
    return _custom("vadNotification", {"trackId": track_id, "status": status})


def candidate(candidate_line: str) -> str:
    # Always m-line 0: the answer bundles every m-line on one transport.
    return _custom(
        "candidate",
        {"candidate": candidate_line, "sdpMLineIndex": 0, "sdpMid": None, "usernameFragment": None},
    )
