"""A peer's display name, from its join params or its ``connect`` metadata.

The project's page names itself in both; the Membrane videoroom's ``room.ts`` joins the
channel with no params and names itself only in ``connect`` metadata (``{displayName}``).
Either way the name obeys the same bounds, and a peer that gives none is a neutral guest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_DISPLAY_NAME = "Guest"
# As rooms.limits.Limits.display_name_chars and the join check in rooms.web.peer_channel.
MAX_DISPLAY_NAME_CHARS = 64


def valid_display_name(value: object, max_chars: int = MAX_DISPLAY_NAME_CHARS) -> str | None:
    """``value`` trimmed when it is a string of 1 to ``max_chars`` characters, else None."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    return name if 1 <= len(name) <= max_chars else None


def endpoint_display_name(join_name: str, connect_metadata: Mapping[str, Any]) -> str:
    """The name others see: a valid ``connect`` displayName, else the join name, else Guest.

    ``join_name`` was checked at join (empty when the client joined without one).
    """
    return (
        valid_display_name(connect_metadata.get("displayName")) or join_name or DEFAULT_DISPLAY_NAME
    )
