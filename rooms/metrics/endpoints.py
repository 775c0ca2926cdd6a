"""The live aiortc endpoints of this process, by room and peer, for the samplers.

An Endpoint registers itself once, when it is created; the samplers
(rooms/metrics/sampling.py) read counts it already keeps, at scrape time, so the
forwarding hot path carries no metric calls. Held weakly: a closed, dropped
endpoint leaves nothing behind here.
"""

from __future__ import annotations

from typing import Any, Protocol
from weakref import WeakValueDictionary


class SampledEndpoint(Protocol):
    """What the samplers read from rooms.sfu.endpoint.Endpoint (public attributes only)."""

    @property
    def pc(self) -> Any: ...

    @property
    def publications(self) -> list[Any]: ...


_live: WeakValueDictionary[tuple[str, str], Any] = WeakValueDictionary()


def register(room: str, peer_id: str, endpoint: SampledEndpoint) -> None:
    """Called by each Endpoint as it is created; a newer endpoint of the peer replaces it."""
    _live[(room, peer_id)] = endpoint


def of_room(room: str) -> dict[str, SampledEndpoint]:
    """The open endpoints of ``room``, by peer id."""
    found: dict[str, SampledEndpoint] = {}
    for (name, peer_id), endpoint in list(_live.items()):
        if name == room and endpoint.pc.connectionState != "closed":
            found[peer_id] = endpoint
    return found
