"""A peer's display name: the one rule for it, and where it comes from.

The project's page names itself at join; the Membrane videoroom's ``room.ts`` joins the
channel with no params and names itself only in ``connect`` metadata (``{displayName}``).
Every path (join, ``connect``, ``updateEndpointMetadata``) checks a name with
``check_display_name``; a peer that gives none is a neutral guest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

DEFAULT_DISPLAY_NAME = "Guest"


def check_display_name(value: object, max_chars: int) -> str:
    """``value`` trimmed; ValueError unless it is 1 to ``max_chars`` characters of text."""
    if not isinstance(value, str):
        raise ValueError("displayName must be a string")
    name = value.strip()
    if not 1 <= len(name) <= max_chars:
        raise ValueError(f"displayName must be 1 to {max_chars} characters")
    # Control characters (newlines, escapes) have no place in a name shown to others.
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ValueError("displayName must not contain control characters")
    return name


def valid_display_name(value: object, max_chars: int) -> str | None:
    """``value`` trimmed when ``check_display_name`` accepts it, else None."""
    try:
        return check_display_name(value, max_chars)
    except ValueError:
        return None


def endpoint_display_name(
    join_name: str, connect_metadata: Mapping[str, Any], max_chars: int
) -> str:
    """The name others see: a valid ``connect`` displayName, else the join name, else Guest.

    ``join_name`` was checked at join (empty when the client joined without one).
    """
    return (
        valid_display_name(connect_metadata.get("displayName"), max_chars)
        or join_name
        or DEFAULT_DISPLAY_NAME
    )
