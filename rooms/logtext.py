"""Client strings made safe for one log line: escaped and clipped.

A newline in a topic would forge a log line and a megabyte frame would write a
megabyte of log; ``clip`` keeps a client value to one short, printable line.
"""

from __future__ import annotations

from typing import Any

# Characters of one client value in a log line.
MAX_LOGGED_CHARS = 200


def clip(value: Any, limit: int = MAX_LOGGED_CHARS) -> str:
    """``repr``-style escaping (no raw control characters), cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    escaped = text.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    if len(escaped) <= limit:
        return escaped
    return f"{escaped[:limit]}...({len(escaped)} chars)"
