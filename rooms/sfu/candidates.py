"""Remote ICE candidates, parsed strictly before aiortc or aioice sees them.

aiortc's ``candidate_from_sdp`` asserts on a short line and lets ``int()`` raise on a
bad number; aioice then trusts the fields (a component it does not expect trips an
``assert`` in its packet handler, a port out of range fails in ``sendto``). Here every
field is checked against RFC 8839's grammar and the result is built field by field, so
only well-formed candidates reach aiortc. ``usable`` then says whether one is worth
adding: UDP, component 1 (everything is bundled and RTCP-multiplexed), an IP literal the
address policy allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address

from aiortc import RTCIceCandidate

from rooms.sfu.addresses import RemoteAddressPolicy
from rooms.sfu.media_events import MediaEventError

# RFC 8839: a candidate-attribute is one line; real ones are ~60-200 characters.
MAX_CANDIDATE_CHARS = 512
_FOUNDATION = re.compile(r"[A-Za-z0-9+/]{1,32}")
_DIGITS = re.compile(r"[0-9]{1,10}")
_TYPES = frozenset({"host", "srflx", "prflx", "relay"})
_TRANSPORTS = frozenset({"udp", "tcp"})
_TCP_TYPES = frozenset({"active", "passive", "so"})


class InvalidCandidate(MediaEventError):
    """A candidate that does not follow RFC 8839's grammar."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"invalid candidate: {problem}")


@dataclass(frozen=True)
class RemoteCandidate:
    foundation: str
    component: int
    transport: str  # lower case
    priority: int
    host: str  # an IP literal, or a name (mDNS) that usable() refuses
    port: int
    type: str
    related_address: str | None = None
    related_port: int | None = None
    tcp_type: str | None = None

    def to_aiortc(self) -> RTCIceCandidate:
        # Everything is bundled on m-line 0, whatever index the client named.
        return RTCIceCandidate(
            component=self.component,
            foundation=self.foundation,
            ip=self.host,
            port=self.port,
            priority=self.priority,
            protocol=self.transport,
            type=self.type,
            relatedAddress=self.related_address,
            relatedPort=self.related_port,
            tcpType=self.tcp_type,
            sdpMLineIndex=0,
        )


def _number(text: str, what: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidCandidate(f"{what} must be an integer from {low} to {high}")
    return int(text)


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def parse_candidate(text: str) -> RemoteCandidate:
    """Parse ``candidate:...`` (or ``a=candidate:...``); raises InvalidCandidate."""
    if len(text) > MAX_CANDIDATE_CHARS:
        raise InvalidCandidate(f"longer than {MAX_CANDIDATE_CHARS} characters")
    body = text[2:] if text.startswith("a=") else text
    if not body.startswith("candidate:"):
        raise InvalidCandidate("must start with 'candidate:'")
    fields = body[len("candidate:") :].split(" ")
    if len(fields) < 8 or fields[6] != "typ" or len(fields) % 2:
        raise InvalidCandidate(
            "expected '<foundation> <component> <transport> <priority> "
            "<address> <port> typ <type>' and name/value pairs"
        )
    foundation, component, transport, priority, host, port, _, kind = fields[:8]
    if not _FOUNDATION.fullmatch(foundation):
        raise InvalidCandidate("foundation must be 1 to 32 ice-chars")
    transport = transport.lower()
    if transport not in _TRANSPORTS:
        raise InvalidCandidate("transport must be udp or tcp")
    if kind not in _TYPES:
        raise InvalidCandidate("type must be host, srflx, prflx or relay")
    if not host or not (_is_ip(host) or re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host)):
        raise InvalidCandidate("address must be an IP address or a host name")
    extras = dict(zip(fields[8::2], fields[9::2], strict=True))
    related_address = extras.get("raddr")
    if related_address is not None and not _is_ip(related_address):
        raise InvalidCandidate("raddr must be an IP address")
    related_port = extras.get("rport")
    tcp_type = extras.get("tcptype")
    if tcp_type is not None and tcp_type not in _TCP_TYPES:
        raise InvalidCandidate("tcptype must be active, passive or so")
    return RemoteCandidate(
        foundation=foundation,
        component=_number(component, "component", 1, 256),
        transport=transport,
        priority=_number(priority, "priority", 1, 2**31 - 1),
        host=host,
        port=_number(port, "port", 0 if transport == "tcp" else 1, 65535),
        type=kind,
        related_address=related_address,
        related_port=None if related_port is None else _number(related_port, "rport", 0, 65535),
        tcp_type=tcp_type,
    )


def unusable_reason(candidate: RemoteCandidate, policy: RemoteAddressPolicy) -> str | None:
    """Why the worker will not use a well-formed candidate, or None if it will."""
    if candidate.transport != "udp":
        return "not UDP"
    if candidate.component != 1:
        return "not component 1 (RTCP is multiplexed)"
    if not _is_ip(candidate.host):
        return "a host name (mDNS names are never resolved)"
    if not policy.allows(candidate.host):
        return "an address outside ICE_ALLOWED_REMOTE_NETWORKS"
    return None
