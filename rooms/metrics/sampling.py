"""A room worker's media figures, read from counts its objects already keep.

Run on the worker's event loop, at scrape time or by the figures publisher: per peer
connection, aiortc's public ``getStats()`` (transport bytes in, RTP packets in and out,
payload bytes out, the subscriber's receiver reports: round-trip time and loss), and the
forwarder's own counters (Publication.keyframes_requested, Subscription.retransmitted and
held_back). Nothing is added to the per-packet path.

Prometheus counters must never go down, but these counts live on objects that go away
with their peer. ``Totals`` keeps, per counter, the last value of every object seen gone,
so each total is monotonic (increments between an object's last sample and its end are
the only ones lost).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from rooms.metrics import endpoints

COUNTERS = (
    "received_packets",
    "received_bytes",
    "forwarded_packets",
    "forwarded_bytes",
    "nack_retransmissions",
    "keyframe_requests",
    "keyframe_wait_packets",
)


@dataclass
class PeerFigures:
    """One participant as its worker sees it; rates are filled in by the publisher."""

    room: str
    peer_id: str
    display_name: str
    bytes_in: int = 0  # everything received on the peer's transport
    bytes_out: int = 0  # RTP payload forwarded to the peer
    packets_in: int = 0
    packets_out: int = 0
    round_trip_seconds: float | None = None  # worst over the peer's receiver reports
    fraction_lost: float | None = None  # worst over the peer's receiver reports, 0..1
    at: float = field(default_factory=time.monotonic)
    bitrate_in: float | None = None  # bit/s since the previous sample
    bitrate_out: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "peer_id": self.peer_id,
            "display_name": self.display_name,
            "bitrate_in": self.bitrate_in,
            "bitrate_out": self.bitrate_out,
            "packets_in": self.packets_in,
            "packets_out": self.packets_out,
            "round_trip_seconds": self.round_trip_seconds,
            "fraction_lost": self.fraction_lost,
        }


@dataclass
class WorkerSample:
    rooms: int = 0
    peers: int = 0
    published: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    subscribed: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    totals: dict[str, int] = field(default_factory=dict)
    figures: list[PeerFigures] = field(default_factory=list)


class Totals:
    """Monotonic sums over objects that come and go (see the module docstring)."""

    def __init__(self) -> None:
        self._retired: defaultdict[str, int] = defaultdict(int)
        # key -> (counter name -> value); the keys hold their objects until the next pass,
        # so an id cannot be reused by a new object meanwhile.
        self._last: dict[Hashable, dict[str, int]] = {}

    def update(self, seen: dict[Hashable, dict[str, int]]) -> dict[str, int]:
        for key, values in self._last.items():
            if key not in seen:
                for name, value in values.items():
                    self._retired[name] += value
        self._last = seen
        result = {name: self._retired[name] for name in COUNTERS}
        for values in seen.values():
            for name, value in values.items():
                result[name] += value
        return result


class _Key:
    """Identity of an object as a dict key, holding the object."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.obj is self.obj


async def sample_worker(rooms: dict[str, Any], totals: Totals) -> WorkerSample:
    """Figures of every room in ``rooms`` (name -> RoomLike); runs on the worker's loop."""
    sample = WorkerSample(rooms=len(rooms))
    seen: dict[Hashable, dict[str, int]] = {}
    for name, room in list(rooms.items()):
        peers = {peer.peer_id: peer for peer in room.peers}
        sample.peers += len(peers)
        for peer_id, endpoint in endpoints.of_room(name).items():
            peer = peers.get(peer_id)
            if peer is None:
                continue
            figures = PeerFigures(name, peer_id, peer.display_name)
            await _read_connection(endpoint, figures, seen)
            for publication in endpoint.publications:
                kind = publication.kind
                sample.published[kind] = sample.published.get(kind, 0) + 1
                sample.subscribed[kind] = (
                    sample.subscribed.get(kind, 0) + publication.subscriber_count
                )
                seen[_Key(publication)] = {"keyframe_requests": publication.keyframes_requested}
                for subscription in publication.subscriptions:
                    seen[_Key(subscription)] = {
                        "nack_retransmissions": subscription.retransmitted,
                        "keyframe_wait_packets": subscription.held_back,
                    }
            sample.figures.append(figures)
    sample.totals = totals.update(seen)
    return sample


async def _read_connection(
    endpoint: Any, figures: PeerFigures, seen: dict[Hashable, dict[str, int]]
) -> None:
    pc = endpoint.pc
    report = await pc.getStats()
    for stats in report.values():
        kind = stats.type
        if kind == "transport":
            figures.bytes_in += stats.bytesReceived
            seen[_Key(pc), stats.id] = {"received_bytes": stats.bytesReceived}
        elif kind == "inbound-rtp":
            figures.packets_in += stats.packetsReceived
            seen[_Key(pc), stats.id, stats.ssrc] = {"received_packets": stats.packetsReceived}
        elif kind == "outbound-rtp":
            figures.packets_out += stats.packetsSent
            figures.bytes_out += stats.bytesSent
            seen[_Key(pc), stats.id] = {
                "forwarded_packets": stats.packetsSent,
                "forwarded_bytes": stats.bytesSent,
            }
        elif kind == "remote-inbound-rtp":
            # aiortc reports the RR's 8-bit fixed-point fraction (RFC 3550 6.4.1) as is.
            lost = stats.fractionLost / 256
            figures.fraction_lost = max(figures.fraction_lost or 0.0, lost)
            if stats.roundTripTime is not None:
                figures.round_trip_seconds = max(
                    figures.round_trip_seconds or 0.0, stats.roundTripTime
                )
