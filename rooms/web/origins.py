"""The websocket Origin check: scheme, host and port, as Phoenix's ``check_origin``.

A browser always sends ``Origin`` on a websocket handshake and a page cannot forge
it, so the check stops other sites' pages from using a visitor's browser against
the server (cross-site websocket hijacking). Channels' AllowedHostsOriginValidator
compares the host only: a page on another port or over plain http of an allowed
host passed. Here:

- With ``VIDEOROOM_ALLOWED_ORIGINS`` set, the Origin must be one of those full
  origins (``https://meet.example.com``, default ports implied).
- Without it, the Origin must be the request's own origin (same-origin): its host
  in ``ALLOWED_HOSTS``, and equal, with scheme and port, to the scheme and ``Host``
  of the websocket request itself. The scheme is ``https`` when the request came
  over TLS or a proxy says so in ``X-Forwarded-Proto``; a page cannot set that
  header on a websocket handshake, so trusting it opens nothing.
- No Origin at all: accepted. Only non-browser clients omit it, and those can send
  any Origin they like, so refusing them would protect nothing (Phoenix does the same).
  ``null`` (sandboxed frames, ``file:``) is refused.

A refused handshake is closed before it is accepted: daphne answers HTTP 403, ASGI
test clients see close code 4403 (``CloseCode.ORIGIN_REFUSED``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rooms.logtext import clip
from rooms.phoenix.errors import CloseCode
from rooms.phoenix.logbudget import LogBudget

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REQUEST_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
# A refused handshake costs a line; a script hammering the server gets a few a minute.
_refusals = LogBudget(logger, "origin check")


@dataclass(frozen=True)
class Origin:
    """A normalized web origin: lower-case scheme and host, explicit port."""

    scheme: str
    host: str
    port: int

    @property
    def netloc_host(self) -> str:
        """The host as written in a URL and in ALLOWED_HOSTS: IPv6 in brackets."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc_host}:{self.port}"


def parse_origin(text: str) -> Origin | None:
    """``scheme://host[:port]`` (http or https, nothing after it) or None."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return Origin(parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme])


def request_origin(scope: Mapping[str, Any]) -> Origin | None:
    """The origin the websocket request itself was made to: its scheme and Host header."""
    headers = _headers(scope)
    host = headers.get("host", "")
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    scheme = _REQUEST_SCHEMES.get(forwarded) or _REQUEST_SCHEMES.get(scope.get("scheme", "ws"))
    if not host or scheme is None:
        return None
    return parse_origin(f"{scheme}://{host}")


def is_allowed(
    scope: Mapping[str, Any], allowed_origins: Iterable[str], allowed_hosts: list[str]
) -> tuple[bool, str]:
    """Whether the handshake may proceed, and why (for the log)."""
    from django.http.request import validate_host

    origin_header = _headers(scope).get("origin")
    if origin_header is None:
        return True, "no Origin (not a browser)"
    origin = parse_origin(origin_header)
    if origin is None:
        return False, "Origin is not an http(s) origin"
    listed = {parsed for text in allowed_origins if (parsed := parse_origin(text))}
    if listed:
        return (True, "listed") if origin in listed else (False, "not listed")
    if not validate_host(origin.netloc_host, allowed_hosts):
        return False, "host not in ALLOWED_HOSTS"
    if origin != request_origin(scope):
        return False, "not the request's own scheme, host and port"
    return True, "same origin"


class OriginValidator:
    """ASGI middleware: refuse websocket handshakes whose Origin is not allowed."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.app(scope, receive, send)
        from django.conf import settings

        allowed, why = is_allowed(
            scope, settings.VIDEOROOM_ALLOWED_ORIGINS, list(settings.ALLOWED_HOSTS)
        )
        if allowed:
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        _refusals.warning(
            "websocket refused: Origin %s for Host %s: %s",
            clip(headers.get("origin")),
            clip(headers.get("host")),
            why,
        )
        # Wait for the connect message, then close before accepting (daphne: HTTP 403).
        await receive()
        await send({"type": "websocket.close", "code": int(CloseCode.ORIGIN_REFUSED)})
        return None


def _headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The handshake's headers by lower-case name (the first of repeated ones)."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found
