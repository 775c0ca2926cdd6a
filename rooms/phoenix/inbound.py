"""From a websocket message to a Frame: size, binary data, flooding and parsing.

Raises ``CloseSocket`` for what has no ref to answer to, ``PhoenixError`` (with the
frame's ref and topic) for what gets an error reply.
"""

from __future__ import annotations

from rooms.phoenix import frames
from rooms.phoenix.errors import CloseCode, CloseSocket, ErrorCode, FrameError, PhoenixError
from rooms.phoenix.frames import Frame
from rooms.phoenix.ratelimit import FloodGuard


def decode(text_data: str | None, max_frame_bytes: int, flood: FloodGuard) -> Frame:
    """The frame in one websocket message, counted against ``flood``."""
    if text_data is None:
        raise CloseSocket(CloseCode.UNSUPPORTED_DATA, "binary frame")
    # surrogatepass: a lone surrogate is refused by the parser, not by the size check.
    if len(text_data) > max_frame_bytes or (
        len(text_data.encode("utf-8", "surrogatepass")) > max_frame_bytes
    ):
        raise CloseSocket(CloseCode.MESSAGE_TOO_BIG, f"over {max_frame_bytes} bytes")
    admitted = flood.admit()
    if flood.exhausted:
        raise CloseSocket(CloseCode.POLICY_VIOLATION, "kept sending while rate limited")
    try:
        frame = frames.parse(text_data)
    except FrameError as error:
        if not error.answerable:
            raise CloseSocket(CloseCode.INVALID_FRAME, error.detail) from None
        if not admitted:
            raise _rate_limited(flood, error.join_ref, error.ref, error.topic) from None
        raise
    if not admitted:
        raise _rate_limited(flood, frame.join_ref, frame.ref, frame.topic)
    return frame


def _rate_limited(
    flood: FloodGuard, join_ref: str | None, ref: str | None, topic: str | None
) -> PhoenixError:
    return PhoenixError(
        f"{flood.strikes} in a row",
        code=ErrorCode.RATE_LIMITED,
        join_ref=join_ref,
        ref=ref,
        topic=topic,
    )
