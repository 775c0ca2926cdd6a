"""Phoenix channels V2 JSON frames: ``[join_ref, ref, topic, event, payload]``.

Parsed strictly (Phoenix's ``V2.JSONSerializer``): a JSON array of exactly five
elements, refs that are strings (``join_ref`` may be null), a non-empty topic and
event, and an object payload. The JSON itself is strict both ways
(``rooms.strictjson``): no NaN, no Infinity, no lone surrogate. Builders for every
frame the server sends live here too, so the wire format is declared once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from rooms import strictjson
from rooms.phoenix.errors import FrameError

Payload = dict[str, Any]

# Phoenix's binary frames cap these at 255 bytes; the same cap keeps logs sane.
MAX_FIELD_LENGTH = 255
PHOENIX_TOPIC = "phoenix"


class Event(StrEnum):
    """Events with a meaning to the protocol itself."""

    JOIN = "phx_join"
    LEAVE = "phx_leave"
    REPLY = "phx_reply"
    CLOSE = "phx_close"
    ERROR = "phx_error"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True)
class Frame:
    """One V2 frame, in either direction."""

    join_ref: str | None
    ref: str | None
    topic: str
    event: str
    payload: Payload

    def encode(self) -> str:
        """Compact strict JSON; raises UnencodableFrame for what no browser could read."""
        try:
            text = strictjson.dumps([self.join_ref, self.ref, self.topic, self.event, self.payload])
        except (TypeError, ValueError, RecursionError) as error:
            raise UnencodableFrame(str(error)) from None
        if strictjson.has_lone_surrogate(text):
            # UTF-8 cannot carry it: daphne would raise while sending.
            raise UnencodableFrame("lone surrogate in a string")
        return text


class UnencodableFrame(ValueError):
    """A frame the server built that is not strict JSON (NaN, a lone surrogate): a bug."""


def _field(value: object) -> str | None:
    """``value`` if it is a usable string field, else None."""
    if isinstance(value, str) and 0 < len(value) <= MAX_FIELD_LENGTH:
        return value
    return None


def _recover(text: str) -> dict[str, str | None]:
    """join_ref, ref and topic of a frame that is JSON but not strict JSON, if readable."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, list):
        return {}
    fields = [_field(item) for item in data[:3]] + [None] * (3 - len(data[:3]))
    clean = [None if f is None or strictjson.has_lone_surrogate(f) else f for f in fields]
    return {"join_ref": clean[0], "ref": clean[1], "topic": clean[2]}


def parse(text: str) -> Frame:
    """Parse one text frame; raise FrameError, carrying what could be recovered."""
    try:
        data = strictjson.loads(text)
    except strictjson.StrictJSONError as error:
        # Answer with an error reply if the lenient reading finds a ref and topic.
        raise FrameError(error.reason, **_recover(text)) from None
    if not isinstance(data, list):
        raise FrameError("not a JSON array")
    # Read what we can first, so that a broken frame can still be answered.
    join_ref = _field(data[0]) if len(data) > 0 else None
    ref = _field(data[1]) if len(data) > 1 else None
    topic = _field(data[2]) if len(data) > 2 else None
    recovered = {"join_ref": join_ref, "ref": ref, "topic": topic}
    if len(data) != 5:
        raise FrameError(f"{len(data)} elements instead of 5", **recovered)
    raw_join_ref, _, _, raw_event, payload = data
    if raw_join_ref is not None and join_ref is None:
        raise FrameError("join_ref is not a string or null", **recovered)
    if ref is None:
        raise FrameError("ref is not a non-empty string", **recovered)
    if topic is None:
        raise FrameError("topic is not a non-empty string", **recovered)
    event = _field(raw_event)
    if event is None:
        raise FrameError("event is not a non-empty string", **recovered)
    if not isinstance(payload, dict):
        raise FrameError("payload is not an object", **recovered)
    return Frame(join_ref=join_ref, ref=ref, topic=topic, event=event, payload=payload)


def reply(
    join_ref: str | None,
    ref: str | None,
    topic: str,
    status: Literal["ok", "error"],
    response: Payload | None = None,
) -> Frame:
    """``phx_reply`` to the frame with ``ref``."""
    return Frame(join_ref, ref, topic, Event.REPLY, {"status": status, "response": response or {}})


def error_reply(join_ref: str | None, ref: str | None, topic: str, reason: str) -> Frame:
    return reply(join_ref, ref, topic, "error", {"reason": reason})


def push(join_ref: str | None, topic: str, event: str, payload: Payload) -> Frame:
    """A server push on a joined channel: its join_ref, no ref."""
    return Frame(join_ref, None, topic, event, payload)


def close(join_ref: str | None, topic: str) -> Frame:
    """``phx_close``: the channel ended normally; the client does not rejoin."""
    return Frame(join_ref, join_ref, topic, Event.CLOSE, {})


def error(join_ref: str | None, topic: str) -> Frame:
    """``phx_error``: the channel crashed or lost its server side; the client rejoins."""
    return Frame(join_ref, join_ref, topic, Event.ERROR, {})
