"""A peer's display name: the one rule for it, and where it comes from.

The project's page names itself at join; the Membrane videoroom's ``room.ts`` joins the
channel with no params and names itself only in ``connect`` metadata (``{displayName}``).
Every path (join, ``connect``, ``updateEndpointMetadata``) checks a name with
``check_display_name``; a peer that gives none is a neutral guest.
"""

from __future__ import annotations

import unicodedata

DEFAULT_DISPLAY_NAME = "Guest"
# Unicode categories refused in a display name: C0/C1 controls and the line and paragraph
# separators (a name is one line on every page, in the logs and in the admin). Format
# characters (Cf) stay allowed: emoji sequences need the zero-width joiner.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


class DisplayNameLength(ValueError):
    """The name is empty or longer than the bound: the one refusal a limit decides."""


def check_display_name(value: object, max_chars: int) -> str:
    """``value`` trimmed; ValueError unless it is 1 to ``max_chars`` characters of text."""
    if not isinstance(value, str):
        raise ValueError("displayName must be a string")
    name = value.strip()
    if not 1 <= len(name) <= max_chars:
        raise DisplayNameLength(f"displayName must be 1 to {max_chars} characters")
    # Checked before trimming too: strip() takes line separators for whitespace.
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
        raise ValueError("displayName must not contain control characters")
    return name


def valid_display_name(value: object, max_chars: int) -> str | None:
    """``value`` trimmed when ``check_display_name`` accepts it, else None."""
    try:
        return check_display_name(value, max_chars)
    except ValueError:
        return None
