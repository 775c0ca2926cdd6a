"""UserSocket: the application's Phoenix socket (Membrane's ``UserSocket``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings

from rooms import names
from rooms.layers import LayerUnavailable
from rooms.limits import Limits
from rooms.metrics import web as web_metrics
from rooms.phoenix import Channel, PhoenixSocket
from rooms.phoenix.errors import ErrorCode, PhoenixError
from rooms.phoenix.frames import Frame
from rooms.web import join_limits
from rooms.web.peer_channel import PeerChannel


class UserSocket(PhoenixSocket):
    """Serves ``room:*`` topics with PeerChannel at ``/socket/websocket``."""

    channels: ClassVar[dict[str, type[Channel]]] = {"room:*": PeerChannel}
    # The Redis layer's sends fail with it during an outage: timers wait it out.
    layer_unavailable: ClassVar[tuple[type[Exception], ...]] = (LayerUnavailable,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits: Limits = settings.VIDEOROOM_LIMITS
        self._joins = join_limits.per_minute_bucket(self.limits.joins_per_minute_per_socket)

    def idle_timeout_seconds(self) -> float:
        return float(settings.VIDEOROOM["SOCKET_IDLE_TIMEOUT_SECONDS"])

    def send_buffer_limit_bytes(self) -> int:
        return self.limits.socket_send_buffer_bytes

    def admit_join(self, frame: Frame) -> None:
        # Checked before anything else happens for the join (a duplicate join's old
        # channel is kept): no database query, claim or worker message past the bound.
        if not self._joins.take():
            raise PhoenixError("joins per socket", code=ErrorCode.RATE_LIMITED)
        address = join_limits.client_address(self.scope)
        buckets = join_limits.address_buckets(self.limits.joins_per_minute_per_address)
        if not buckets.take(address):
            raise PhoenixError(f"joins from {address}", code=ErrorCode.RATE_LIMITED)

    def on_frame_refused(self, code: object) -> None:
        web_metrics.frame_refused(code)

    def on_join_started(self, channel: Channel) -> None:
        web_metrics.join_started(channel)

    def on_join_answered(self, channel: Channel, refusal: str) -> None:
        web_metrics.join_answered(channel, refusal)

    def topic_for_message(self, message: dict[str, Any]) -> str | None:
        # Every peer.* message names its room; route it to that room's channel.
        kind = message.get("type")
        room = message.get("room")
        if isinstance(kind, str) and kind.startswith("peer.") and isinstance(room, str):
            return names.topic_for(room)
        return None
