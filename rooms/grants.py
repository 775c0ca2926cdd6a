"""What an admitted peer may do in its room: publish, subscribe, moderate.

Decided on the web side at join time (the room's join policy, a signed token,
the Django user's permissions) and carried to the room's owner in ``room.join``;
the room enforces them. A peer without a grant never gets to use it: the SFU
refuses the media events that would need it with an ``error`` event.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Grant(StrEnum):
    PUBLISH = "publish"  # send tracks
    SUBSCRIBE = "subscribe"  # receive the others' tracks
    MODERATE = "moderate"  # mute others' tracks for everyone, remove others


# What a peer of an open room gets: everything but moderation.
PARTICIPANT: frozenset[Grant] = frozenset({Grant.PUBLISH, Grant.SUBSCRIBE})


def parse_grants(values: Iterable[object]) -> frozenset[Grant]:
    """The grants named by ``values``; ValueError for a name that is not a grant."""
    grants: set[Grant] = set()
    for value in values:
        if not isinstance(value, str) or value not in Grant.__members__.values():
            raise ValueError(f"unknown grant {value!r}")
        grants.add(Grant(value))
    return frozenset(grants)


def grant_names(grants: Iterable[Grant]) -> list[str]:
    """``grants`` as a sorted list of names, for messages and tokens."""
    return sorted(grant.value for grant in grants)
