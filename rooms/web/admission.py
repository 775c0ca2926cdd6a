"""The web side of a join's admission: credentials from the join params and the
socket, and the per-address bounds on guessing and on creating rooms.

PeerChannel hands a join to ``Admission.decide``; the decision itself is
rooms.services.authorize_join (rooms.access), run off the event loop. Around it:

- a client address that failed ``failed_attempts_per_minute_per_address_room`` PINs or
  tokens on a room this minute is refused ``too many attempts`` before any hashing (a
  PIN check costs a password-hasher run: tens of milliseconds of CPU by design);
- a client address that created ``rooms_created_per_minute_per_address`` rooms this
  minute may join existing rooms but not create one (``too many new rooms``).

Both counts are process-local, as the join limits (rooms.web.join_limits).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rooms import access, services
from rooms.access import Credentials
from rooms.limits import Limits
from rooms.messages import JoinRefusal
from rooms.phoenix import Payload
from rooms.phoenix.logbudget import LogBudget
from rooms.roomtypes import JoinRefused
from rooms.tokens import TOKEN_MAX_CHARS
from rooms.web import join_limits

logger = logging.getLogger(__name__)

PIN_MAX_CHARS = 64
_too_many = LogBudget(logger, "credential attempts")

Authorize = Callable[[services.JoinRequest], Awaitable[services.JoinPolicy]]


def parse_credentials(params: Payload, scope: Mapping[str, Any]) -> Credentials:
    """The ``pin`` and ``token`` join params and the socket's session user; ValueError
    for a param that is not a string or is too long. Empty strings count as absent."""
    pin = params.get("pin", "")
    token = params.get("token", "")
    if pin is None:
        pin = ""
    if token is None:
        token = ""
    if not isinstance(pin, str) or len(pin) > PIN_MAX_CHARS:
        raise ValueError(f"pin must be a string of at most {PIN_MAX_CHARS} characters")
    if not isinstance(token, str) or len(token) > TOKEN_MAX_CHARS:
        raise ValueError(f"token must be a string of at most {TOKEN_MAX_CHARS} characters")
    return Credentials(pin=pin.strip(), token=token.strip(), user=scope.get("user"))


class Admission:
    """One join's admission, with this process's attempt and creation counts."""

    def __init__(self, *, room: str, scope: Mapping[str, Any], limits: Limits) -> None:
        self.room = room
        self.address = join_limits.client_address(scope)
        self._attempt_key = join_limits.attempt_key(self.address, room)
        self._attempts = join_limits.buckets(
            join_limits.FAILED_ATTEMPTS, limits.failed_attempts_per_minute_per_address_room
        )
        self._creations = join_limits.buckets(
            join_limits.ROOMS_CREATED, limits.rooms_created_per_minute_per_address
        )

    async def decide(
        self,
        authorize: Authorize,
        credentials: Credentials,
        *,
        peer_id: str,
        display_name: str,
    ) -> services.JoinPolicy:
        """The room's policy for this join, or JoinRefused with the reason."""
        guessing = bool(credentials.pin or credentials.token)
        if guessing and self._attempts.exhausted(self._attempt_key):
            _too_many.warning("room %s: %s tried too many PINs or tokens", self.room, self.address)
            raise JoinRefused(JoinRefusal.TOO_MANY_ATTEMPTS)
        request = services.JoinRequest(
            room_name=self.room,
            credentials=credentials,
            peer_id=peer_id,
            display_name=display_name,
            may_create=not self._creations.exhausted(self.address),
        )
        try:
            policy = await authorize(request)
        except JoinRefused as refused:
            if refused.reason in access.FAILED_ATTEMPTS:
                self._attempts.take(self._attempt_key)
            raise
        if policy.created:
            self._creations.take(self.address)
        return policy
