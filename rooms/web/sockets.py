"""UserSocket: the application's Phoenix socket (Membrane's ``UserSocket``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings

from rooms import names
from rooms.phoenix import Channel, PhoenixSocket
from rooms.web.peer_channel import PeerChannel


class UserSocket(PhoenixSocket):
    """Serves ``room:*`` topics with PeerChannel at ``/socket/websocket``."""

    channels: ClassVar[dict[str, type[Channel]]] = {"room:*": PeerChannel}

    def idle_timeout_seconds(self) -> float:
        return float(settings.VIDEOROOM["SOCKET_IDLE_TIMEOUT_SECONDS"])

    def topic_for_message(self, message: dict[str, Any]) -> str | None:
        # Every peer.* message names its room; route it to that room's channel.
        kind = message.get("type")
        room = message.get("room")
        if isinstance(kind, str) and kind.startswith("peer.") and isinstance(room, str):
            return names.topic_for(room)
        return None
