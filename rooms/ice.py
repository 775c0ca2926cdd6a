"""ICE servers handed to browsers and used by the room worker.

TURN credentials follow coturn's shared-secret scheme (``use-auth-secret``, the
"TURN REST API"): username ``<expiry unix time>:<user>``, password
``base64(HMAC-SHA1(secret, username))``. No public STUN server is ever implied:
with nothing configured the list is empty and only host candidates are used.

The same servers reach browsers in two shapes: RTCIceServer dicts in the join reply
(``ice_servers``), and Membrane's ``integratedTurnServers`` entries in every ``offerData``
(``integrated_turn_servers``), which is all a stock, relay-only membrane-webrtc-js client
uses. ``parse_turn_url`` is the one parser of a TURN URL (RFC 7065), also used to
validate TURN_URLS at boot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any, Literal
from urllib.parse import parse_qsl

from django.conf import settings

from rooms.sfu.config import MediaConfig

TurnTransport = Literal["udp", "tcp", "tls"]

# RFC 7065 section 3: 3478 for turn:, 5349 for turns:.
_DEFAULT_PORTS = {"turn": 3478, "turns": 5349}


@dataclass(frozen=True)
class TurnUrl:
    """One TURN URL: ``turn:host[:port][?transport=udp|tcp]`` or ``turns:host[:port]``."""

    host: str
    port: int
    transport: TurnTransport


def parse_turn_url(url: str) -> TurnUrl:
    """Split a TURN URL (RFC 7065); raise ValueError naming what is wrong.

    ``turns:`` is TURN over TLS (over TCP: the Membrane client builds
    ``turns:<addr>:<port>?transport=tcp`` from transport ``tls``); DTLS is not offered.
    """
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in _DEFAULT_PORTS:
        raise ValueError(f"must start with turn: or turns:, got {url!r}")
    address, _, query = rest.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if set(params) - {"transport"}:
        raise ValueError(f"only the transport parameter is allowed, got {url!r}")
    transport = params.get("transport", "udp")
    if transport not in ("udp", "tcp"):
        raise ValueError(f"transport must be udp or tcp, got {url!r}")
    kind: TurnTransport = "tcp" if transport == "tcp" else "udp"
    if scheme == "turns":
        if "transport" in params and transport != "tcp":
            raise ValueError(f"turns: over udp (DTLS) is not supported, got {url!r}")
        kind = "tls"
    if address.startswith("["):
        host, bracket, port_text = address[1:].partition("]")
        if not bracket or (port_text and not port_text.startswith(":")):
            raise ValueError(f"bad IPv6 address, got {url!r}")
        try:
            IPv6Address(host)
        except ValueError:
            raise ValueError(f"bad IPv6 address, got {url!r}") from None
        port_text = port_text[1:]
    else:
        host, _, port_text = address.partition(":")
    if not host or "/" in host or "@" in host:
        raise ValueError(f"a host is required, got {url!r}")
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"port must be 1 to 65535, got {url!r}")
        port = int(port_text)
    else:
        port = _DEFAULT_PORTS[scheme]
    return TurnUrl(host=host, port=port, transport=kind)


def turn_credentials(
    secret: str, user: str, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    """A time-limited (username, password) pair that coturn accepts until now + ttl."""
    expiry = int((time.time() if now is None else now) + ttl_seconds)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(user: str, config: MediaConfig | None = None) -> list[dict[str, Any]]:
    """RTCIceServer dicts (``urls``, ``username``, ``credential``) for one user."""
    config = config or settings.VIDEOROOM_MEDIA
    servers: list[dict[str, Any]] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls:
        username, credential = turn_credentials(config.turn_secret, user, config.turn_ttl_seconds)
        servers.append(
            {"urls": list(config.turn_urls), "username": username, "credential": credential}
        )
    return servers


def integrated_turn_servers(user: str, config: MediaConfig) -> list[dict[str, Any]]:
    """Membrane's ``integratedTurnServers``: one entry per TURN URL, credentials for ``user``.

    Shape: ``{serverAddr, serverPort, transport: "udp" | "tcp" | "tls", username, password}``.
    """
    if not config.turn_urls:
        return []
    username, password = turn_credentials(config.turn_secret, user, config.turn_ttl_seconds)
    servers = []
    for url in config.turn_urls:
        turn = parse_turn_url(url)
        servers.append(
            {
                # The client writes `turn:<serverAddr>:<serverPort>`: IPv6 needs its brackets.
                "serverAddr": f"[{turn.host}]" if ":" in turn.host else turn.host,
                "serverPort": turn.port,
                "transport": turn.transport,
                "username": username,
                "password": password,
            }
        )
    return servers
