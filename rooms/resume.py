"""Resume secrets: what lets a reconnecting socket take back its peer in a room.

The join reply of a resumable peer carries a secret; a later join of the same topic
with ``{"resume": secret}`` re-attaches that peer (same peer id, same media session)
instead of creating a new one. The secret is the room name, the peer id and the peer's
grants (for the resumed join's reply; the room keeps the peer's own) signed with
Django's ``SECRET_KEY`` (HMAC-SHA256, ``django.core.signing``), so every web process
checks it without shared state and nobody can forge one for a peer id they learned
from the room's media events. It has no expiry of its own: the room's owner decides
whether the peer is still there to resume (docs/protocol.md, "Resuming a peer").
The secret is a credential: it is never logged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core import signing

from rooms.grants import Grant, grant_names, parse_grants

_SALT = "videoroom.resume"
# A signed [room, peer id, grants] is about 150 characters; anything much longer is not ours.
MAX_SECRET_CHARS = 400


class InvalidResume(ValueError):
    """The secret is malformed, forged or for another room; the message says which."""


def resume_secret(room: str, peer_id: str, grants: Iterable[Grant]) -> str:
    """The secret the join reply hands to a resumable peer."""
    return signing.dumps([room, peer_id, grant_names(grants)], salt=_SALT)


def peer_of_secret(secret: object, room: str) -> tuple[str, frozenset[Grant]]:
    """The peer id and grants a resume secret names in ``room``, or raise InvalidResume."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET_CHARS:
        raise InvalidResume(f"resume must be a string of 1 to {MAX_SECRET_CHARS} characters")
    try:
        value = signing.loads(secret, salt=_SALT)
    except signing.BadSignature:
        raise InvalidResume("resume secret not valid") from None
    match value:
        case [str(signed_room), str(peer_id), list(grants)] if peer_id:
            if signed_room != room:
                raise InvalidResume("resume secret is for another room")
            try:
                return peer_id, parse_grants(grants)
            except ValueError:
                raise InvalidResume("resume secret not valid") from None
    raise InvalidResume("resume secret not valid")
