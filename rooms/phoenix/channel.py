"""The Channel base class: one joined topic on one socket, like ``Phoenix.Channel``.

A subclass implements the callbacks; the socket (a ``ChannelHost``) calls them one
at a time from its dispatch loop and turns their results into frames:

- ``join(params)`` returns the ok response, raises ``JoinError(reason)``, or returns
  ``JOIN_PENDING`` and later calls ``reply_join`` / ``refuse_join`` (for a join that
  waits for a channel-layer message: awaiting it inside ``join`` would deadlock the
  consumer, whose dispatch loop handles one message at a time).
- ``handle_in(event, payload)`` returns a reply payload (sent as an ok reply) or None
  (no reply, as Phoenix's ``{:noreply, socket}``); raising ``PhoenixError`` answers
  with an error reply.
- ``handle_info(message)`` receives channel-layer messages routed to the topic.
- ``terminate(reason)`` runs exactly once for every channel whose join did not fail.

A channel that needs a timer calls ``send_after``: the message comes back through
``handle_info``, in the dispatch loop, never from a task of its own.
"""

from __future__ import annotations

import logging
from enum import Enum, StrEnum
from typing import Any, Literal, Protocol

from rooms.phoenix.errors import UnknownEvent
from rooms.phoenix.frames import Payload

logger = logging.getLogger(__name__)


class StopKind(StrEnum):
    """How a channel ends from the server side."""

    CLOSE = "close"  # phx_close: final, the client does not rejoin
    ERROR = "error"  # phx_error: the client rejoins with backoff


class TerminateReason(StrEnum):
    """Why ``terminate`` is called."""

    LEAVE = "leave"  # the client sent phx_leave
    CLOSED = "closed"  # the websocket closed, from either side
    DUPLICATE_JOIN = "duplicate_join"  # a new join of the same topic replaced this one
    STOPPED = "stopped"  # the channel called stop()
    CRASHED = "crashed"  # a callback raised an unexpected exception


class JoinState(Enum):
    JOINING = "joining"
    JOINED = "joined"
    ENDED = "ended"


class _Pending(Enum):
    PENDING = "pending"


JOIN_PENDING = _Pending.PENDING
JoinResult = Payload | Literal[_Pending.PENDING]


class ChannelHost(Protocol):
    """What a channel needs from its socket; tests pass a fake."""

    channel_name: str
    channel_layer: Any
    # The websocket's ASGI scope: client address, and the session user behind
    # Channels' AuthMiddleware.
    scope: dict[str, Any]

    async def push_frame(self, channel: Channel, event: str, payload: Payload) -> None:
        """Send a push on the channel's topic with its join_ref."""

    async def finish_join(self, channel: Channel, response: Payload | None, reason: str) -> None:
        """Reply to a pending join: ok with ``response``, or error with ``reason`` if None."""

    async def stop_channel(self, channel: Channel, kind: StopKind) -> None:
        """End the channel from the server side (terminate, then phx_close/phx_error)."""

    def start_timer(self, channel: Channel, seconds: float, message: dict[str, Any]) -> int:
        """Hand ``message`` to the channel's ``handle_info`` after ``seconds``; an id."""

    def cancel_timer(self, timer_id: int | None) -> None:
        """Forget a timer of ``start_timer``: its message will not be handed over."""


class Channel:
    """One topic joined on one socket. Subclasses override the callbacks."""

    def __init__(self, topic: str, join_ref: str, host: ChannelHost) -> None:
        self.topic = topic
        self.join_ref = join_ref
        self.host = host
        self.state = JoinState.JOINING

    @property
    def channel_name(self) -> str:
        """The consumer's channel-layer name: where replies to this channel are sent."""
        return self.host.channel_name

    @property
    def channel_layer(self) -> Any:
        return self.host.channel_layer

    # --- callbacks -------------------------------------------------------------

    async def join(self, params: Payload) -> JoinResult:
        return {}

    async def handle_in(self, event: str, payload: Payload) -> Payload | None:
        raise UnknownEvent(f"no handler for {event!r}")

    async def handle_info(self, message: dict[str, Any]) -> None:
        logger.debug("topic %s: unhandled message %s", self.topic, message.get("type"))

    async def terminate(self, reason: TerminateReason) -> None:
        """Release what the channel holds; must not raise."""

    # --- actions ---------------------------------------------------------------

    async def push(self, event: str, payload: Payload) -> None:
        """Push an event to the client (ignored once the channel has ended)."""
        if self.state is not JoinState.ENDED:
            await self.host.push_frame(self, event, payload)

    async def reply_join(self, response: Payload) -> None:
        """Finish a pending join with ok."""
        if self.state is JoinState.JOINING:
            await self.host.finish_join(self, response, "")

    async def refuse_join(self, reason: str) -> None:
        """Finish a pending join with an error; ``terminate`` will not be called."""
        if self.state is JoinState.JOINING:
            await self.host.finish_join(self, None, reason)

    def send_after(self, seconds: float, message: dict[str, Any]) -> int:
        """``handle_info(message)`` after ``seconds``, from the socket's dispatch loop.

        Phoenix's ``Process.send_after(self(), ...)``: the timer posts a message, it
        never runs channel code itself. Returns the id for ``cancel_timer``.
        """
        return self.host.start_timer(self, seconds, message)

    def cancel_timer(self, timer_id: int | None) -> None:
        self.host.cancel_timer(timer_id)

    async def stop(self, kind: StopKind) -> None:
        """End a joined channel from the server side."""
        if self.state is not JoinState.ENDED:
            await self.host.stop_channel(self, kind)


def match_topic(patterns: dict[str, type[Channel]], topic: str) -> type[Channel] | None:
    """The Channel class for ``topic``: an exact pattern, or a ``prefix*`` wildcard."""
    for pattern, channel_class in patterns.items():
        if pattern == topic or (pattern.endswith("*") and topic.startswith(pattern[:-1])):
            return channel_class
    return None
