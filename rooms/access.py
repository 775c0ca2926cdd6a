"""Who may enter which room: the join policies (open, pin, token, users) and their grants.

Synchronous ORM code, run by the web side through database_sync_to_async at each join
(rooms.services.authorize_join). It decides from the room's row, the join's credentials
and the websocket's Django user, and raises ``JoinRefused`` with a precise reason.

A valid signed token (rooms.tokens) admits its bearer into its room whatever the
room's policy: only the holder of SECRET_KEY can issue one, so it is the host
application's explicit word. It alone may bring an unknown room into being when
auto-creation is off. Otherwise:

- ``open``: anyone;
- ``pin``: the ``pin`` join parameter must match the room's hashed PIN;
- ``token``: a token is required;
- ``users``: the session user must be logged in, active, and allowed: one of the room's
  users, a member of one of its groups, or holder of ``rooms.join_any_room``. The room's
  moderators (users, groups, or ``rooms.moderate_any_room``) also get the moderate grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rooms import tokens
from rooms.grants import PARTICIPANT, Grant
from rooms.messages import JoinRefusal
from rooms.models import JoinPolicy, Room
from rooms.roomtypes import JoinRefused

# Refusals that cost a PIN or token attempt (rooms.web.join_limits.AttemptLimits).
FAILED_ATTEMPTS = frozenset(
    {
        JoinRefusal.WRONG_PIN,
        JoinRefusal.TOKEN_INVALID,
        JoinRefusal.TOKEN_EXPIRED,
        JoinRefusal.TOKEN_OTHER_ROOM,
    }
)
MODERATOR: frozenset[Grant] = PARTICIPANT | {Grant.MODERATE}


@dataclass(frozen=True)
class Credentials:
    """What a join brings: the ``pin`` and ``token`` params and the websocket's user."""

    pin: str = ""
    token: str = ""
    user: Any = None  # scope["user"] of Channels' AuthMiddleware, or None without it


@dataclass(frozen=True)
class Admission:
    """Who the admitted peer is and what it may do."""

    grants: frozenset[Grant] = PARTICIPANT
    identity: str = ""  # the token's identity or the user's username; "" for a guest
    display_name: str = ""  # the token's name, which wins over the client's; "" if none


def token_for(room_name: str, credentials: Credentials) -> tokens.JoinToken | None:
    """The verified token of a join, None without one; raises JoinRefused if it is bad."""
    if not credentials.token:
        return None
    try:
        return tokens.verify(credentials.token, room_name)
    except tokens.TokenRefused as refused:
        raise JoinRefused(refused.reason) from None


def admit(room: Room, credentials: Credentials, token: tokens.JoinToken | None) -> Admission:
    """The admission of a join into ``room`` (not locked), or JoinRefused."""
    if token is not None:
        return Admission(token.grants, token.identity, token.display_name)
    policy = room.join_policy
    if policy == JoinPolicy.OPEN:
        return Admission()
    if policy == JoinPolicy.PIN:
        if not credentials.pin:
            raise JoinRefused(JoinRefusal.PIN_REQUIRED)
        if not room.check_pin(credentials.pin):
            raise JoinRefused(JoinRefusal.WRONG_PIN)
        return Admission()
    if policy == JoinPolicy.TOKEN:
        raise JoinRefused(JoinRefusal.TOKEN_REQUIRED)
    return _admit_user(room, credentials.user)


def _admit_user(room: Room, user: Any) -> Admission:
    if user is None or not user.is_authenticated or not user.is_active:
        raise JoinRefused(JoinRefusal.LOGIN_REQUIRED)
    if is_moderator(room, user):
        return Admission(MODERATOR, identity=user.get_username())
    allowed = (
        user.has_perm("rooms.join_any_room")
        or room.allowed_users.filter(pk=user.pk).exists()
        or room.allowed_groups.filter(user=user).exists()
    )
    if not allowed:
        raise JoinRefused(JoinRefusal.NOT_ALLOWED)
    return Admission(identity=user.get_username())


def is_moderator(room: Room, user: Any) -> bool:
    """Whether a logged-in ``user`` may moderate ``room`` (users policy)."""
    return bool(
        user.has_perm("rooms.moderate_any_room")
        or room.moderators.filter(pk=user.pk).exists()
        or room.moderator_groups.filter(user=user).exists()
    )
