"""PhoenixSocket: a websocket consumer speaking Phoenix channels V2 JSON (vsn 2.0.x).

The counterpart of ``Phoenix.Socket`` plus its websocket transport. A subclass maps
topic patterns to Channel classes (``channels = {"room:*": PeerChannel}``) and may
route channel-layer messages to a topic (``topic_for_message``). This is the one
boundary where bad input becomes an error reply or a named close code, and where
unexpected exceptions are logged; nothing raises out of the consumer.

Every client string reaches the log through ``clip`` and every warning about client
input through the socket's ``LogBudget``. Timers (the idle timeout, channels'
``send_after``) post a ``phoenix.timer`` message to the consumer's own channel, so
every state change happens in the dispatch loop.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar, Final, Literal
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from rooms.logtext import clip
from rooms.phoenix import frames
from rooms.phoenix.channel import (
    JOIN_PENDING,
    Channel,
    JoinState,
    StopKind,
    TerminateReason,
    match_topic,
)
from rooms.phoenix.errors import (
    CloseCode,
    CloseSocket,
    ErrorCode,
    JoinError,
    PhoenixError,
    UnknownEvent,
)
from rooms.phoenix.frames import Event, Frame, Payload
from rooms.phoenix.idle import IdleClock
from rooms.phoenix.inbound import decode
from rooms.phoenix.logbudget import LogBudget
from rooms.phoenix.outbound import CONNECTION_GONE, Outbound
from rooms.phoenix.ratelimit import FloodGuard
from rooms.phoenix.timers import Timers

logger = logging.getLogger(__name__)

_SUPPORTED_VSN = re.compile(r"2\.0\.\d+")
# What a timer stands for: a channel and the message it asked for, or the idle check.
IDLE_CHECK: Final = "idle"
TimerTarget = tuple[Channel, dict[str, Any]] | Literal["idle"]


class PhoenixSocket(AsyncWebsocketConsumer):
    """One websocket carrying any number of joined topics."""

    channels: ClassVar[dict[str, type[Channel]]] = {}
    # Phoenix has no frame limit by default; this one only bounds what a client can make
    # the server buffer and parse. The largest honest frame is a mediaEvent carrying an SDP
    # offer, which has one m-line per remote track: a Chrome video m-line is ~3-4 KB
    # without codec preferences (~1 KB with VP8 only), so offers reach ~60-110 KB in a
    # room of 12 and ~100-190 KB in a room of 20. 1 MiB (1,048,576 bytes) leaves 5x
    # headroom. Daphne's own limits must be above it, or a bigger frame gets its TCP
    # connection dropped instead of MESSAGE_TOO_BIG: see docs/protocol.md.
    max_frame_bytes: ClassVar[int] = 1024 * 1024
    # Joining sends a burst of ICE candidates and SDP; 100 frames then 30/s is generous.
    flood_burst: ClassVar[float] = 100.0
    flood_rate: ClassVar[float] = 30.0
    # Frames refused as "rate limited" in a row before the socket is closed.
    flood_strikes: ClassVar[int] = 50
    max_channels: ClassVar[int] = 16
    # What the channel layer raises when it cannot reach its backend for now (a subclass
    # names its layer's exceptions; this package knows no layer): timers retry on them.
    layer_unavailable: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._channels: dict[str, Channel] = {}
        self._join_push_refs: dict[Channel, str] = {}
        self._flood = FloodGuard(self.flood_burst, self.flood_rate, self.flood_strikes)
        self._idle: IdleClock | None = None
        self._timers: Timers[TimerTarget] = Timers(
            self._post_to_self, unavailable=self.layer_unavailable
        )
        self._log = LogBudget(logger, "?")
        self._outbound = Outbound("?")
        self._closing = False

    # --- hooks for subclasses ---------------------------------------------------

    def idle_timeout_seconds(self) -> float:
        """Close the socket after this long without a frame (Phoenix's default: 60 s)."""
        return 60.0

    def topic_for_message(self, message: dict[str, Any]) -> str | None:
        """The topic whose channel should get this channel-layer message, if any."""
        return None

    def send_buffer_limit_bytes(self) -> int:
        """Close the socket once this much is queued for a client that does not read."""
        return 4 * 1024 * 1024

    def on_frame_refused(self, code: object) -> None:
        """A frame was answered with an error or closed the socket (for metrics)."""

    def on_join_started(self, channel: Channel) -> None:
        """A join reached its channel (for metrics)."""

    def on_join_answered(self, channel: Channel, refusal: str) -> None:
        """A join was answered: ``refusal`` is empty for ok (for metrics)."""

    def admit_join(self, frame: Frame) -> None:
        """Raise PhoenixError (e.g. "rate limited") to refuse a join before it starts."""

    # --- connection lifecycle ---------------------------------------------------

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        vsn = (query.get("vsn") or [""])[-1]
        self._log.name = self._outbound.name = self.channel_name
        if not _SUPPORTED_VSN.fullmatch(vsn):
            logger.warning("socket %s: refused, unsupported vsn %s", self.channel_name, clip(vsn))
            await self.close(code=CloseCode.UNSUPPORTED_VSN)
            return
        # The 1.8 client offers the "phoenix" subprotocol when it sends an auth token.
        subprotocol = "phoenix" if "phoenix" in self.scope.get("subprotocols", []) else None
        await self.accept(subprotocol=subprotocol)
        self._outbound.attach(self.scope)
        self._idle = IdleClock(self.idle_timeout_seconds())
        self._timers.start(self._idle.timeout, IDLE_CHECK)
        logger.debug("socket %s: connected", self.channel_name)

    async def disconnect(self, code: int) -> None:
        logger.debug("socket %s: disconnected with %s", self.channel_name, code)
        self._closing = True
        await self._end_all()
        await self._timers.close()
        self._log.flush()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route layer messages to channels; everything else to the consumer's handlers."""
        try:
            topic = self.topic_for_message(message)
            if topic is not None:
                await self._deliver_info(topic, message)
            elif hasattr(self, get_handler_name(message)):
                await super().dispatch(message)
            else:
                # A stray layer message is not the client's fault: keep the socket.
                logger.warning("socket %s: dropped %s", self.channel_name, message.get("type"))
        except StopConsumer:
            raise
        except Exception:
            logger.exception("socket %s: failed on %s", self.channel_name, message.get("type"))
            if message.get("type") == "websocket.disconnect":
                # The connection is gone whatever failed: release everything and stop.
                await self.disconnect(message.get("code", CloseCode.INTERNAL_ERROR))
                raise StopConsumer() from None
            await self._close(CloseCode.INTERNAL_ERROR)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The boundary for client input: every bad frame is answered here, and logged once."""
        if self._idle is not None:
            self._idle.touch()
        if self._closing:
            return
        frame: Frame | None = None
        try:
            frame = decode(text_data, self.max_frame_bytes, self._flood)
            await self._handle_frame(frame)
        except CloseSocket as error:
            self._log.warning(
                "socket %s: bad input, closing: %s", self.channel_name, clip(str(error))
            )
            await self._close(error.code)
            self.on_frame_refused(error.code)
        except PhoenixError as error:
            join_ref, ref, topic = (
                (frame.join_ref, frame.ref, frame.topic)
                if frame is not None
                else (error.join_ref, error.ref, error.topic)
            )
            # An unavailable service is no fault of the client's, and its process has
            # already said so once (rooms.outage): not a warning per frame.
            log = logger.debug if error.code == ErrorCode.UNAVAILABLE else self._log.warning
            log(
                "socket %s topic %s: frame %s %s answered %r: %s",
                self.channel_name,
                clip(topic),
                clip(ref),
                clip(frame.event) if frame is not None else "?",
                error.code,
                clip(error.detail),
            )
            self.on_frame_refused(error.code)
            if topic is not None:
                await self._send(frames.error_reply(join_ref, ref, topic, error.code))

    # --- frames ----------------------------------------------------------------

    async def _handle_frame(self, frame: Frame) -> None:
        if frame.topic == frames.PHOENIX_TOPIC:
            if frame.event != Event.HEARTBEAT:
                raise UnknownEvent("only heartbeat on topic phoenix")
            await self._send(frames.reply(frame.join_ref, frame.ref, frame.topic, "ok"))
            return
        if frame.event == Event.JOIN:
            await self._join(frame)
            return
        channel = self._channels.get(frame.topic)
        if frame.event == Event.LEAVE:
            # Phoenix answers ok to a leave even for a topic that is not joined.
            await self._send(frames.reply(frame.join_ref, frame.ref, frame.topic, "ok"))
            if channel is not None:
                await self._end(channel, TerminateReason.LEAVE, StopKind.CLOSE)
            return
        if channel is None:
            raise PhoenixError("topic not joined", code=ErrorCode.UNMATCHED_TOPIC)
        if channel.state is JoinState.JOINING:
            raise PhoenixError("join not answered yet", code=ErrorCode.JOIN_PENDING)
        try:
            response = await channel.handle_in(frame.event, frame.payload)
        except PhoenixError:
            raise
        except Exception:
            logger.exception(
                "socket %s topic %s: %s crashed",
                self.channel_name,
                clip(frame.topic),
                clip(frame.event),
            )
            await self._end(channel, TerminateReason.CRASHED, StopKind.ERROR)
            return
        if response is not None:
            await self._send(frames.reply(frame.join_ref, frame.ref, frame.topic, "ok", response))

    async def _join(self, frame: Frame) -> None:
        self.admit_join(frame)
        previous = self._channels.get(frame.topic)
        if previous is not None:
            logger.info(
                "socket %s topic %s: duplicate join, closing the old one",
                self.channel_name,
                clip(frame.topic),
            )
            await self._end(previous, TerminateReason.DUPLICATE_JOIN, StopKind.CLOSE)
        channel_class = match_topic(self.channels, frame.topic)
        if channel_class is None:
            raise PhoenixError("no channel for this topic", code=ErrorCode.UNMATCHED_TOPIC)
        if len(self._channels) >= self.max_channels:
            raise PhoenixError(f"{len(self._channels)} joined", code=ErrorCode.TOO_MANY_CHANNELS)
        assert frame.ref is not None  # parse() guarantees it
        channel = channel_class(frame.topic, frame.join_ref or frame.ref, self)
        self._channels[frame.topic] = channel
        self._join_push_refs[channel] = frame.ref
        self.on_join_started(channel)
        try:
            result = await channel.join(frame.payload)
        except JoinError as error:
            # A detail means bad input (a warning); a plain reason is a normal refusal.
            level = logging.WARNING if error.detail else logging.INFO
            self._log.log(
                level,
                "socket %s topic %s: join refused: %s",
                self.channel_name,
                clip(frame.topic),
                clip(str(error)),
            )
            await self.finish_join(channel, None, error.reason)
            return
        except Exception:
            logger.exception(
                "socket %s topic %s: join crashed", self.channel_name, clip(frame.topic)
            )
            await self._end(channel, TerminateReason.CRASHED, None)
            await self._send(
                frames.error_reply(frame.join_ref, frame.ref, frame.topic, ErrorCode.JOIN_CRASHED)
            )
            return
        if result is not JOIN_PENDING:
            await self.finish_join(channel, result, "")

    # --- ChannelHost -----------------------------------------------------------

    async def push_frame(self, channel: Channel, event: str, payload: Payload) -> None:
        await self._send(frames.push(channel.join_ref, channel.topic, event, payload))

    async def finish_join(self, channel: Channel, response: Payload | None, reason: str) -> None:
        if (
            channel.state is not JoinState.JOINING
            or self._channels.get(channel.topic) is not channel
        ):
            return
        ref = self._join_push_refs.get(channel)
        self.on_join_answered(channel, "" if response is not None else reason)
        if response is None:
            self._forget(channel)
            channel.state = JoinState.ENDED
            await self._send(frames.error_reply(channel.join_ref, ref, channel.topic, reason))
        else:
            channel.state = JoinState.JOINED
            await self._send(frames.reply(channel.join_ref, ref, channel.topic, "ok", response))

    async def stop_channel(self, channel: Channel, kind: StopKind) -> None:
        await self._end(channel, TerminateReason.STOPPED, kind)

    def start_timer(self, channel: Channel, seconds: float, message: dict[str, Any]) -> int:
        return self._timers.start(seconds, (channel, message))

    def cancel_timer(self, timer_id: int | None) -> None:
        self._timers.cancel(timer_id)

    # --- timers ----------------------------------------------------------------

    async def _post_to_self(self, message: dict[str, Any]) -> None:
        await self.channel_layer.send(self.channel_name, message)

    async def phoenix_timer(self, message: dict[str, Any]) -> None:
        """A timer fired: check the idle clock, or hand a channel the message it asked for."""
        if self._closing:
            return
        target = self._timers.fired(message)
        if target is None:
            return  # cancelled after it posted its message
        if isinstance(target, tuple):
            channel, info = target
            if self._channels.get(channel.topic) is channel:
                await self._deliver_to(channel, info)
        elif self._idle is not None:
            remaining = self._idle.remaining()
            if remaining > 0:
                self._timers.start(remaining, IDLE_CHECK)
                return
            logger.info("socket %s: idle for %.0f s", self.channel_name, self._idle.timeout)
            await self._close(CloseCode.IDLE_TIMEOUT)

    # --- channel teardown ------------------------------------------------------

    async def _deliver_info(self, topic: str, message: dict[str, Any]) -> None:
        channel = self._channels.get(topic)
        if channel is None:
            logger.debug(
                "socket %s: dropped %s for topic %s, not joined",
                self.channel_name,
                message.get("type"),
                topic,
            )
            return
        await self._deliver_to(channel, message)

    async def _deliver_to(self, channel: Channel, message: dict[str, Any]) -> None:
        try:
            await channel.handle_info(message)
        except Exception:
            logger.exception(
                "socket %s topic %s: handle_info crashed", self.channel_name, clip(channel.topic)
            )
            await self._end(channel, TerminateReason.CRASHED, StopKind.ERROR)

    def _forget(self, channel: Channel) -> None:
        if self._channels.get(channel.topic) is channel:
            del self._channels[channel.topic]
        self._join_push_refs.pop(channel, None)

    async def _end(self, channel: Channel, reason: TerminateReason, kind: StopKind | None) -> None:
        """Terminate a channel once, then tell the client with phx_close / phx_error."""
        self._forget(channel)
        if channel.state is JoinState.ENDED:
            return
        channel.state = JoinState.ENDED
        try:
            await channel.terminate(reason)
        except Exception:
            logger.exception(
                "socket %s topic %s: terminate crashed", self.channel_name, clip(channel.topic)
            )
        if kind is StopKind.CLOSE:
            await self._send(frames.close(channel.join_ref, channel.topic))
        elif kind is StopKind.ERROR:
            await self._send(frames.error(channel.join_ref, channel.topic))

    async def _end_all(self) -> None:
        for channel in list(self._channels.values()):
            await self._end(channel, TerminateReason.CLOSED, None)

    # --- sending and closing ---------------------------------------------------

    async def _send(self, frame: Frame) -> None:
        """Send a frame unless the socket is closing; never raises for the client's sake."""
        if self._closing:
            return
        text = self._outbound.encode(frame)
        if text is None:
            return
        pending = self._outbound.pending_bytes()
        if pending is not None and pending >= self.send_buffer_limit_bytes():
            self._log.warning(
                "socket %s: %d bytes queued and unread, closing", self.channel_name, pending
            )
            await self._close(CloseCode.SEND_BUFFER_FULL)
            return
        try:
            await self.send(text_data=text)
        except CONNECTION_GONE as error:
            # The client closed first and its websocket.disconnect is still queued:
            # nothing more can reach it, and that is not an error.
            logger.debug("socket %s: not sent, connection closing (%s)", self.channel_name, error)
            self._closing = True

    async def _close(self, code: CloseCode) -> None:
        """Close from the server side: channels end without frames, then the websocket."""
        if self._closing:
            return
        self._closing = True
        logger.info("socket %s: closing with %s (%s)", self.channel_name, int(code), code.name)
        await self._end_all()
        await self._timers.close()
        self._log.flush()
        await self.close(code=int(code))
