"""The RoomOutbox a host hands its Room: peers reached over the channel layer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import BaseChannelLayer

from rooms import messages
from rooms.layers import LayerUnavailable
from rooms.messages import RemovalReason
from rooms.metrics import worker as worker_metrics
from rooms.moderation import ModerationRecord
from rooms.roomtypes import PeerInfo
from rooms.worker.recorder import ParticipationRecorder

logger = logging.getLogger(__name__)

# Leaves the peer asked for; the consumer already knows and needs no message.
_PEER_INITIATED = frozenset(
    {RemovalReason.LEFT, RemovalReason.DISCONNECTED, RemovalReason.REPLACED}
)


class LayerOutbox:
    """Sends ``peer.*`` messages, records each departure and moderator action once, passes
    removal requests on."""

    def __init__(
        self,
        room: str,
        layer: BaseChannelLayer,
        recorder: ParticipationRecorder,
        *,
        request_removal: Callable[[str, RemovalReason], None],
        on_peer_left: Callable[[PeerInfo, RemovalReason], Awaitable[None]],
        is_detached: Callable[[str], bool] = lambda peer_id: False,
    ) -> None:
        self._room = room
        self._layer = layer
        self._recorder = recorder
        self._request_removal = request_removal
        self._on_peer_left = on_peer_left
        self._is_detached = is_detached

    async def _send(self, channel: str, message: Any) -> None:
        try:
            await self._layer.send(channel, message)
        except LayerUnavailable:
            # Redis is down, which rooms.outage has said once; the media goes on.
            logger.debug("room %s: %s to %s lost with Redis", self._room, message["type"], channel)
        except Exception:
            # ChannelFull or a Redis error: the consumer is gone or stuck; the
            # room goes on for everyone else.
            logger.exception(
                "room %s: could not send %s to %s", self._room, message["type"], channel
            )

    async def media_event(self, peer: PeerInfo, data: str) -> None:
        if self._is_detached(peer.peer_id):
            # Nobody reads its channel: the resume resends the room instead, and a full
            # channel would only turn each further send into an error.
            return
        await self._send(peer.channel, messages.peer_media_event(self._room, peer.peer_id, data))

    async def peer_left(self, peer: PeerInfo, reason: RemovalReason) -> None:
        logger.info("room %s peer %s left (%s)", self._room, peer.peer_id, reason)
        worker_metrics.peer_removed(reason)
        if reason not in _PEER_INITIATED:
            await self._send(peer.channel, messages.peer_removed(self._room, peer.peer_id, reason))
        self._recorder.left(self._room, peer.peer_id, reason)
        await self._on_peer_left(peer, reason)

    def moderated(self, record: ModerationRecord) -> None:
        self._recorder.moderated(record)

    def request_removal(self, peer_id: str, reason: RemovalReason) -> None:
        self._request_removal(peer_id, reason)
