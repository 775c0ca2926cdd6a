"""JSON as browsers accept it, in both directions.

Python's json module reads and writes ``NaN`` and ``Infinity`` (not JSON: ``JSON.parse``
throws on them) and keeps lone surrogates such as ``"\\ud800"`` (which cannot be encoded
as UTF-8, so the database, the admin and the log handlers fail on them later). Every
decode of client text and every encode of what goes back to a client goes through here.
"""

from __future__ import annotations

import json
from typing import Any


class StrictJSONError(ValueError):
    """Text that is not strict JSON; ``reason`` is short and safe to send back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not JSON")


def has_lone_surrogate(text: str) -> bool:
    """True if ``text`` holds a surrogate code point, which UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                raise StrictJSONError("lone surrogate in a string")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(text: str) -> Any:
    """Decode ``text``; raise StrictJSONError for invalid JSON, NaN/Infinity, lone surrogates."""
    if has_lone_surrogate(text):
        raise StrictJSONError("lone surrogate in the text")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError):
        raise StrictJSONError("not valid JSON") from None
    # "\ud800" escapes decode to lone surrogates without being in the raw text.
    if "\\u" in text or "\\U" in text:
        _check_strings(value)
    return value


def dumps(value: Any) -> str:
    """Compact JSON that any ``JSON.parse`` accepts; ValueError for NaN or Infinity."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: the unit every size bound is stated in."""
    return len(dumps(value).encode("utf-8", errors="surrogatepass"))
