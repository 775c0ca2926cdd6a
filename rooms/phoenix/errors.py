"""Errors of the Phoenix socket layer, each with a stable code.

Raised anywhere below the socket and turned into a wire answer at one boundary
(``PhoenixSocket``): an error reply ``{"status": "error", "response": {"reason":
code}}`` when the offending frame's ref is known, else a close with a named code.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CloseCode(IntEnum):
    """Websocket close codes the server uses.

    Only 1000 and the range 3000-4999 may be sent by an application: daphne (autobahn's
    ``sendClose``) raises on any other code, and the socket then stays open. So the
    codes for bad input are private 4xxx ones, each 4000 + the RFC 6455 (section 7.4.1)
    code of the same meaning.
    """

    NORMAL = 1000
    IDLE_TIMEOUT = 4000  # no frame (not even a heartbeat) within the idle timeout
    UNSUPPORTED_VSN = 4001  # connect with a protocol version other than 2.0.x
    UNSUPPORTED_DATA = 4003  # a binary frame: only the V2 JSON text encoding is spoken
    INVALID_FRAME = 4007  # not JSON, or not a frame, and no ref to answer to
    POLICY_VIOLATION = 4008  # kept flooding after being told "rate limited"
    MESSAGE_TOO_BIG = 4009  # a frame over the size limit
    INTERNAL_ERROR = 4011  # a bug: logged with its traceback
    # The client stopped reading: the bytes queued for it reached the send-buffer limit
    # (RFC 6455's 1013 is "try again later").
    SEND_BUFFER_FULL = 4013
    # The handshake's Origin is not an allowed one; daphne answers HTTP 403 instead,
    # ASGI test clients see this code (4000 + HTTP 403, as there is no RFC 6455 code).
    ORIGIN_REFUSED = 4403


class ErrorCode(StrEnum):
    """Reasons sent in error replies; clients may match on them."""

    UNMATCHED_TOPIC = "unmatched topic"  # Phoenix's own wording
    INVALID_FRAME = "invalid frame"
    UNKNOWN_EVENT = "unknown event"
    INVALID_PAYLOAD = "invalid payload"
    RATE_LIMITED = "rate limited"
    JOIN_PENDING = "join pending"  # a frame for a topic whose join has not been answered yet
    JOIN_CRASHED = "join crashed"  # Phoenix's own wording
    TOO_MANY_CHANNELS = "too many channels"
    # The frame needs a service that is briefly out of reach (the channel layer's Redis);
    # the channel and the socket stay, the client may send it again later.
    UNAVAILABLE = "unavailable"


class PhoenixError(Exception):
    """Something a client sent that gets an error reply with ``code``.

    ``join_ref``, ``ref`` and ``topic`` name the frame to answer when the raiser knows
    them better than the socket (a frame that failed to parse); otherwise the socket
    answers the frame it was handling.
    """

    code: str = ErrorCode.INVALID_FRAME

    def __init__(
        self,
        detail: str = "",
        *,
        code: str | None = None,
        join_ref: str | None = None,
        ref: str | None = None,
        topic: str | None = None,
    ) -> None:
        super().__init__(detail or str(code or self.code))
        if code is not None:
            self.code = code
        self.detail = detail
        self.join_ref = join_ref
        self.ref = ref
        self.topic = topic


class FrameError(PhoenixError):
    """A text frame that is not a valid V2 frame; ``ref`` and ``topic`` when readable."""

    code = ErrorCode.INVALID_FRAME

    @property
    def answerable(self) -> bool:
        return self.ref is not None and self.topic is not None


class UnknownEvent(PhoenixError):
    """An event the channel (or the socket, on topic ``phoenix``) does not handle."""

    code = ErrorCode.UNKNOWN_EVENT


class InvalidPayload(PhoenixError):
    """A known event whose payload does not have the expected shape."""

    code = ErrorCode.INVALID_PAYLOAD


class JoinError(Exception):
    """Raised by ``Channel.join`` to refuse a join; ``reason`` is sent to the client."""

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail  # logged, never sent


class CloseSocket(Exception):
    """Close the whole socket with ``code`` (raised below the socket's boundary)."""

    def __init__(self, code: CloseCode, detail: str = "") -> None:
        super().__init__(detail or code.name)
        self.code = code
        self.detail = detail
