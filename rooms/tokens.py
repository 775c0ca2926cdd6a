"""Signed join tokens: a host application lets one identity into one room, LiveKit-style.

``issue(room, identity, ...)`` returns a string the client passes as the ``token`` join
parameter; ``verify(token, room)`` checks it at join and returns its ``JoinToken`` or
raises ``TokenRefused`` with the JoinRefusal to send.

Signed with Django's ``signing`` (HMAC-SHA256 under SECRET_KEY, with a salt of its
own), not PyJWT: the only party that reads a token is this server, which already holds
the key, so JWT's interoperability buys nothing, while Django's signer is a dependency
the project has anyway, is reviewed with Django's security releases, honours
``SECRET_KEY_FALLBACKS`` for key rotation, and cannot be talked into ``alg: none`` or
an asymmetric-key confusion. The payload (room, identity, name, grants, expiry) is
readable by whoever holds the token, but cannot be changed without the key: put nothing
secret in it.

The expiry is a field of the payload (``exp``, Unix seconds) rather than the signer's
timestamp with a ``max_age`` at reading, so each token carries its own lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core import signing

from rooms import names
from rooms.display_names import check_display_name
from rooms.grants import PARTICIPANT, Grant, grant_names, parse_grants
from rooms.messages import JoinRefusal

# Namespaces the signature: a value signed for another purpose (a session, a password
# reset link) under the same SECRET_KEY is never a valid token.
SALT = "videoroom.rooms.tokens.join"
DEFAULT_TTL_SECONDS = 6 * 3600
# A token is a credential: a year at most, so a leaked one does not open a room forever.
MAX_TTL_SECONDS = 366 * 24 * 3600
IDENTITY_MAX_CHARS = 128
# Far above any token this module issues (~300 characters); the join parameter's bound.
TOKEN_MAX_CHARS = 2048
# Display names follow the room's own rule (rooms.display_names, Limits.display_name_chars).
DISPLAY_NAME_MAX_CHARS = 64


class TokenRefused(Exception):
    """A token that does not let its bearer into the room; ``reason`` is the join error."""

    def __init__(self, reason: JoinRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class JoinToken:
    """What a verified token says."""

    room: str
    identity: str
    display_name: str  # "" when the token names none
    grants: frozenset[Grant]
    expires_at: int  # Unix seconds


def issue(
    room: str,
    identity: str,
    *,
    display_name: str = "",
    grants: Iterable[Grant | str] = PARTICIPANT,
    ttl: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """A token letting ``identity`` into ``room`` with ``grants`` for ``ttl`` seconds.

    Raises ValueError for an invalid room name, an empty or overlong identity, a display
    name the room would refuse, an unknown grant or a ttl outside 1 s to a year.
    """
    names.validate_room_name(room)
    if not isinstance(identity, str) or not 1 <= len(identity) <= IDENTITY_MAX_CHARS:
        raise ValueError(f"identity must be 1 to {IDENTITY_MAX_CHARS} characters")
    if display_name:
        display_name = check_display_name(display_name, DISPLAY_NAME_MAX_CHARS)
    checked = parse_grants(grants)
    if not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be 1 to {MAX_TTL_SECONDS} seconds")
    expires_at = int((time.time() if now is None else now) + ttl)
    payload: dict[str, Any] = {
        "room": room,
        "sub": identity,
        "grants": grant_names(checked),
        "exp": expires_at,
    }
    if display_name:
        payload["name"] = display_name
    return signing.dumps(payload, salt=SALT, compress=True)


def verify(token: object, room: str, *, now: float | None = None) -> JoinToken:
    """The token's claims if it is intact, unexpired and for ``room``; else TokenRefused.

    The signature is checked first: a tampered token says nothing, not even its room.
    """
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        raise TokenRefused(JoinRefusal.TOKEN_INVALID)
    try:
        payload = signing.loads(token, salt=SALT)
        claims = _claims(payload)
    except (signing.BadSignature, ValueError):
        raise TokenRefused(JoinRefusal.TOKEN_INVALID) from None
    if claims.expires_at <= (time.time() if now is None else now):
        raise TokenRefused(JoinRefusal.TOKEN_EXPIRED)
    if claims.room != room:
        raise TokenRefused(JoinRefusal.TOKEN_OTHER_ROOM)
    return claims


def _claims(payload: object) -> JoinToken:
    """A JoinToken from a signed payload; ValueError if it lacks a field (an older format)."""
    if not isinstance(payload, dict):
        raise ValueError("payload must be an object")
    room, identity = payload.get("room"), payload.get("sub")
    display_name, expires_at = payload.get("name", ""), payload.get("exp")
    grants = payload.get("grants")
    if not isinstance(room, str) or not isinstance(identity, str) or not identity:
        raise ValueError("room and sub must be strings")
    if not isinstance(display_name, str) or not isinstance(grants, list):
        raise ValueError("name must be a string and grants a list")
    if not isinstance(expires_at, int) or isinstance(expires_at, bool):
        raise ValueError("exp must be an integer")
    return JoinToken(room, identity, display_name, parse_grants(grants), expires_at)
