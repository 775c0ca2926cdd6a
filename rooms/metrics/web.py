"""The metrics of a web (daphne) process; docs/operations.md lists them.

Counters are incremented at the few places a join or a refusal is decided
(rooms/phoenix/socket.py); gauges are read when scraped: open sockets from the
ASGI wrapper below, joined channels from the owner monitors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from weakref import WeakKeyDictionary

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SOCKETS_OPEN = Gauge("videoroom_web_sockets_open", "Websockets accepted and not yet closed.")
JOINS = Counter(
    "videoroom_web_joins",
    "Room joins answered, by outcome: ok or the refusal reason.",
    ["outcome"],
)
# From a few ms (room live on an idle worker) to the 8 s join timeout.
JOIN_REPLY_SECONDS = Histogram(
    "videoroom_web_join_reply_seconds",
    "Time from a phx_join frame to its reply, ok or refused.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)
FRAMES_REFUSED = Counter(
    "videoroom_web_frames_refused",
    "Client frames answered with an error reply or a close code, by reason.",
    ["reason"],
)

_join_started: WeakKeyDictionary[Any, float] = WeakKeyDictionary()


def join_started(channel: Any) -> None:
    """A phx_join for ``channel`` arrived; its reply is timed from now."""
    _join_started[channel] = time.monotonic()


def join_answered(channel: Any, refusal: str) -> None:
    """The join of ``channel`` was answered: ok when ``refusal`` is empty."""
    JOINS.labels(outcome=refusal or "ok").inc()
    started = _join_started.pop(channel, None)
    if started is not None:
        JOIN_REPLY_SECONDS.observe(time.monotonic() - started)


def frame_refused(reason: object) -> None:
    """A frame was refused; ``reason`` is an ErrorCode or a CloseCode (a bounded set)."""
    name = getattr(reason, "name", None) if not isinstance(reason, str) else None
    FRAMES_REFUSED.labels(reason=(name or str(reason)).lower().replace(" ", "_")).inc()


class CountSockets:
    """ASGI wrapper: a websocket counts as open from its accept until its app returns.

    It also notes the server's event loop, where JoinedChannels asks the owner monitor.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self._app(scope, receive, send)
            return
        _server_loop[0] = asyncio.get_running_loop()
        accepted = False

        async def counting_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                SOCKETS_OPEN.inc()
            await send(message)

        try:
            await self._app(scope, receive, counting_send)
        finally:
            if accepted:
                SOCKETS_OPEN.dec()


_server_loop: list[asyncio.AbstractEventLoop | None] = [None]
# A scrape waits this long for the server's loop, then reports the last count.
_LOOP_TIMEOUT_SECONDS = 1.0


class JoinedChannels(Collector):
    """``videoroom_web_channels_joined``: the peers this process's owner monitor watches.

    A channel is watched from its ok reply until it ends, so this counts joined room
    channels without a call on either path. The monitor belongs to the server's loop and
    is read there; scrapes come from the metrics thread.
    """

    def __init__(self) -> None:
        self._last = 0

    def collect(self) -> Iterable[GaugeMetricFamily]:
        loop = _server_loop[0]
        if loop is not None and not loop.is_closed():
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._last = _watched()
            else:
                future = asyncio.run_coroutine_threadsafe(_watched_async(), loop)
                try:
                    self._last = future.result(_LOOP_TIMEOUT_SECONDS)
                except Exception:
                    future.cancel()
        family = GaugeMetricFamily(
            "videoroom_web_channels_joined", "Room channels joined on this web process."
        )
        family.add_metric([], self._last)
        yield family


def _watched() -> int:
    from rooms.web.monitor import owner_monitor

    return owner_monitor().watched


async def _watched_async() -> int:
    return _watched()


_installed = False


def install() -> None:
    """Register the scrape-time collectors once per process."""
    global _installed
    if not _installed:
        REGISTRY.register(JoinedChannels())
        _installed = True
