"""A generic Phoenix channels (V2 JSON) server on Django Channels.

Nothing here knows about rooms: ``PhoenixSocket`` maps topic patterns to
``Channel`` subclasses that the application provides.
"""

from rooms.phoenix.channel import JOIN_PENDING, Channel, JoinResult, StopKind, TerminateReason
from rooms.phoenix.errors import CloseCode, ErrorCode, InvalidPayload, JoinError, PhoenixError
from rooms.phoenix.frames import Frame, Payload
from rooms.phoenix.socket import PhoenixSocket

__all__ = [
    "JOIN_PENDING",
    "Channel",
    "CloseCode",
    "ErrorCode",
    "Frame",
    "InvalidPayload",
    "JoinError",
    "JoinResult",
    "Payload",
    "PhoenixError",
    "PhoenixSocket",
    "StopKind",
    "TerminateReason",
]
