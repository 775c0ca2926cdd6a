"""Every bound on client input, in one place (DESIGN.md invariant 6).

``videoroom_project.config.read_limits`` builds one ``Limits`` from the environment
(``VIDEOROOM_LIMIT_*``, see .env.example and docs/protocol.md "Bounds"); the web
side reads ``settings.VIDEOROOM_LIMITS``, the room worker hands it to each Room.
The defaults fit a room of up to 20 participants, each with a camera, a microphone
and a screen share.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Sizes, counts and rates a peer may use; past one the sender gets a clear error."""

    # Characters of a display name, on every path (join, connect, updateEndpointMetadata).
    display_name_chars: int = 64
    # Endpoint metadata as compact JSON (connect, updateEndpointMetadata, join params).
    endpoint_metadata_bytes: int = 4 * 1024
    # One track's metadata as compact JSON (sdpOffer's trackIdToTrackMetadata, updates).
    track_metadata_bytes: int = 1024
    # Tracks one peer may publish at once (camera, microphone, screen and its audio).
    tracks_per_peer: int = 4
    # One SDP offer. A Chrome offer carries ~1-4 KB per m-line, and a room of 20 with
    # screen shares needs 3 m-lines per remote peer plus its own: 64 m-lines, ~256 KiB.
    sdp_bytes: int = 256 * 1024
    offer_media_sections: int = 64
    # Remote ICE candidates accepted per negotiation (trickled plus in the offer) and in
    # all for one peer connection; browsers send 2-10 per negotiation.
    candidates_per_negotiation: int = 32
    candidates_per_peer: int = 256
    # Media events one peer may send: a burst (joining sends SDP and candidates at once),
    # then a sustained rate per second.
    media_event_burst: int = 60
    media_events_per_second: float = 20.0
    # A joined peer that has not sent `connect` within this is removed (no squatting).
    connect_timeout_seconds: float = 10.0
    # Joins a socket, and a client address, may start per minute (leaves are free).
    joins_per_minute_per_socket: int = 30
    joins_per_minute_per_address: int = 120
    # Wrong PINs and bad tokens one client address may try on one room per minute
    # (rooms.web.join_limits.AttemptLimits); a right one is never counted.
    failed_attempts_per_minute_per_address_room: int = 5
    # Rooms one client address may create by joining unknown rooms, per minute.
    rooms_created_per_minute_per_address: int = 10
    # Messages waiting for one room's owner; past it, joins and media events are refused.
    room_queue_length: int = 512
    # Bytes queued for a websocket that the client has not read; past it, close 4013.
    socket_send_buffer_bytes: int = 4 * 1024 * 1024
    # Participation records (joins, leaves) one worker holds for the database; past it,
    # new records are dropped with a log line instead of piling up while the database
    # is down. Each is a few hundred bytes; joins are bounded by the rates above.
    participation_backlog: int = 10_000

    @property
    def media_event_bytes(self) -> int:
        """The largest media event a peer can need: an sdpOffer of ``sdp_bytes`` (JSON
        escaping at most doubles it) with the metadata of ``tracks_per_peer`` tracks and
        16 KiB for its maps and field names."""
        return 2 * self.sdp_bytes + self.tracks_per_peer * self.track_metadata_bytes + 16 * 1024
