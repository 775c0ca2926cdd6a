"""The Room: one SFU per live room, speaking media events with each peer.

Signaling follows the Membrane RTC Engine: a peer admitted by ``add_peer`` becomes a
visible endpoint on its ``connect`` event; its tracks are announced (``tracksAdded``)
once its offer is answered; every ``tracksAdded``/``tracksRemoved`` sent to a peer is
followed by an ``offerData`` round. docs/protocol.md ("Media events") has the order rules.

Concurrency: everything runs on one event loop. State changes happen between awaits,
so each is atomic; a per-peer lock serializes one peer's events, and a per-peer
``negotiating`` flag keeps at most one offerData -> sdpOffer -> sdpAnswer round open.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from rooms.display_names import endpoint_display_name
from rooms.ice import integrated_turn_servers
from rooms.limits import Limits
from rooms.messages import JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused, PeerInfo, RoomOutbox
from rooms.sfu import media_events as ev
from rooms.sfu.config import MediaConfig
from rooms.sfu.peer_media import InvalidOffer, PeerMedia, PeerMediaFactory, TrackSource

logger = logging.getLogger(__name__)


@dataclass
class _Published:
    source: TrackSource
    metadata: dict[str, Any]


@dataclass
class _Member:
    info: PeerInfo
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connected: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    published: dict[str, _Published] = field(default_factory=dict)
    media: PeerMedia | None = None
    negotiating: bool = False  # offerData sent, sdpAnswer not yet
    renegotiate_again: bool = False


class Room:
    """An SFU room; implements rooms.roomtypes.RoomLike."""

    def __init__(
        self,
        name: str,
        *,
        outbox: RoomOutbox,
        media: MediaConfig,
        media_factory: PeerMediaFactory | None = None,
    ) -> None:
        self.name = name
        self._outbox = outbox
        self._config = media
        self._factory = media_factory or self._default_factory
        self._members: dict[str, _Member] = {}
        self._closing = False

    def _default_factory(self, room: str, peer_id: str, on_failure: Any) -> PeerMedia:
        # Imported here so the signaling half stays importable without aiortc loaded.
        from rooms.sfu.endpoint import Endpoint

        return Endpoint(room, peer_id, config=self._config, on_failure=on_failure)

    @property
    def peers(self) -> list[PeerInfo]:
        return [member.info for member in self._members.values()]

    # --- RoomLike -----------------------------------------------------------------

    async def add_peer(self, peer: PeerInfo, *, max_participants: int) -> None:
        if peer.peer_id in self._members:
            return
        if self._closing:
            raise JoinRefused(JoinRefusal.UNAVAILABLE)
        if len(self._members) >= max_participants:
            raise JoinRefused(JoinRefusal.FULL)
        self._members[peer.peer_id] = _Member(info=peer)
        logger.info("room %s: peer %s admitted", self.name, peer.peer_id)

    async def remove_peer(self, peer_id: str, reason: RemovalReason) -> None:
        member = self._members.pop(peer_id, None)
        if member is None:
            return
        logger.info("room %s: peer %s removed (%s)", self.name, peer_id, reason)
        try:
            await self._hide(member)
            await self._close_media(member)
        finally:
            await self._outbox.peer_left(member.info, reason)

    async def handle_media_event(self, peer_id: str, data: str) -> None:
        member = self._members.get(peer_id)
        if member is None:
            logger.info("room %s: media event from unknown peer %s dropped", self.name, peer_id)
            return
        try:
            event = ev.parse_client_event(data)
        except ev.MediaEventError as exc:
            logger.info("room %s: peer %s sent a bad media event: %s", self.name, peer_id, exc)
            await self._send(member, ev.error(exc.message))
            return
        async with member.lock:
            if self._members.get(peer_id) is not member:
                return  # removed while waiting for the lock
            try:
                await self._dispatch(member, event)
            except ev.MediaEventError as exc:
                if self._members.get(peer_id) is member:
                    logger.info("room %s: peer %s: %s", self.name, peer_id, exc)
                    await self._send(member, ev.error(exc.message))
            except Exception:
                # The one boundary for failures inside aiortc: the peer hears of it, the room
                # and the other peers carry on.
                if self._members.get(peer_id) is not member:
                    logger.debug("room %s: peer %s left during its event", self.name, peer_id)
                    return
                logger.exception("room %s: peer %s: media event failed", self.name, peer_id)
                await self._send(member, ev.error("internal error"))

    async def close(self, reason: RemovalReason) -> None:
        self._closing = True
        for peer_id in list(self._members):
            await self.remove_peer(peer_id, reason)
        logger.info("room %s: closed (%s)", self.name, reason)

    # --- events -------------------------------------------------------------------

    async def _dispatch(self, member: _Member, event: ev.ClientEvent) -> None:
        if isinstance(event, ev.Connect):
            await self._connect(member, event)
        elif isinstance(event, ev.Unsupported):
            logger.debug("room %s: peer %s: %s ignored", self.name, member.info.peer_id, event.name)
        elif not member.connected or member.media is None:
            raise ev.MediaEventError("connect first")
        elif isinstance(event, ev.Disconnect):
            await self._hide(member)
            await self._close_media(member)
        elif isinstance(event, ev.UpdateEndpointMetadata):
            member.metadata = event.metadata
            await self._broadcast(member, ev.endpoint_updated(member.info.peer_id, event.metadata))
        elif isinstance(event, ev.UpdateTrackMetadata):
            await self._update_track(member, event)
        elif isinstance(event, ev.RenegotiateTracks):
            await self._renegotiate(member, requested=True)
        elif isinstance(event, ev.SdpOffer):
            await self._answer(member, member.media, event)
        elif isinstance(event, ev.Candidate):
            await member.media.add_candidate(event)

    async def _connect(self, member: _Member, event: ev.Connect) -> None:
        if member.connected:
            raise ev.MediaEventError("already connected")
        peer_id = member.info.peer_id
        name = endpoint_display_name(
            member.info.display_name, event.metadata, Limits().display_name_chars
        )
        member.metadata = {**event.metadata, "displayName": name}
        member.media = self._factory(self.name, peer_id, lambda: self._on_media_failed(peer_id))
        # Visible and subscribed in one step, before any await: a track published while the
        # events below are sent reaches this peer through _publish, exactly once.
        member.connected = True
        views = [
            ev.EndpointView(
                id=m.info.peer_id,
                metadata=m.metadata,
                tracks={tid: p.metadata for tid, p in m.published.items()},
            )
            for m in self._visible_others(member)
        ]
        for other in self._visible_others(member):
            for published in other.published.values():
                member.media.subscribe(published.source)
        await self._send(member, ev.connected(peer_id, views))
        # Client 0.5.3 drops the tracks listed in `connected` (reference 2.7 a): repeat them.
        for view in views:
            if view.tracks:
                await self._send(member, ev.tracks_added(view.id, view.tracks))
        await self._broadcast(member, ev.endpoint_added(peer_id, member.metadata))
        logger.info("room %s: peer %s connected", self.name, peer_id)
        if any(view.tracks for view in views):
            await self._renegotiate(member)

    async def _update_track(self, member: _Member, event: ev.UpdateTrackMetadata) -> None:
        published = member.published.get(event.track_id)
        if published is None:
            raise ev.MediaEventError(f"unknown track {event.track_id!r}")
        published.metadata = event.metadata
        message = ev.track_updated(member.info.peer_id, event.track_id, event.metadata)
        await self._broadcast(member, message)

    async def _answer(self, member: _Member, media: PeerMedia, offer: ev.SdpOffer) -> None:
        peer_id = member.info.peer_id
        # Also for an offer nobody asked for: no offerData may cross it (ref 2.4).
        member.negotiating = True
        try:
            outcome = await media.apply_offer(offer)
        except InvalidOffer as exc:
            member.negotiating = False
            raise ev.MediaEventError(f"invalid sdpOffer: {exc}") from None
        if self._members.get(peer_id) is not member or member.media is not media:
            return  # removed or disconnected meanwhile; its media is closed
        await self._send(member, ev.sdp_answer(outcome.answer_sdp, outcome.mid_to_track_id))
        for line in outcome.candidates:
            await self._send(member, ev.candidate(line))
        member.negotiating = False
        if outcome.removed:
            await self._unpublish(member, outcome.removed)
        if outcome.added:
            await self._publish(member, outcome.added, offer.track_metadata)
        if member.renegotiate_again or media.needs_offer():
            member.renegotiate_again = False
            await self._renegotiate(member)

    # --- publishing -----------------------------------------------------------------

    async def _publish(
        self, member: _Member, sources: list[TrackSource], metadata: dict[str, dict[str, Any]]
    ) -> None:
        tracks: dict[str, dict[str, Any]] = {}
        for source in sources:
            member.published[source.track_id] = _Published(
                source, metadata.get(source.track_id, {})
            )
            tracks[source.track_id] = member.published[source.track_id].metadata
        logger.info("room %s: peer %s publishes %s", self.name, member.info.peer_id, list(tracks))
        # State first, for everyone, before any await; then the events.
        others = self._visible_others(member)
        for other in others:
            if other.media is not None:
                for source in sources:
                    other.media.subscribe(source)
        await self._tell(others, ev.tracks_added(member.info.peer_id, tracks))

    async def _unpublish(self, member: _Member, track_ids: list[str]) -> None:
        gone = [tid for tid in track_ids if member.published.pop(tid, None) is not None]
        if not gone:
            return
        logger.info("room %s: peer %s unpublishes %s", self.name, member.info.peer_id, gone)
        others = self._visible_others(member)
        self._unsubscribe(others, gone)
        await self._tell(others, ev.tracks_removed(member.info.peer_id, gone))

    async def _hide(self, member: _Member) -> None:
        """Make a connected peer invisible: tracksRemoved, then endpointRemoved (ref 2.4)."""
        if not member.connected:
            return
        member.connected = False
        peer_id = member.info.peer_id
        gone = list(member.published)
        member.published.clear()
        if self._closing:
            return
        others = self._visible_others(member)
        self._unsubscribe(others, gone)
        for other in others:
            if not other.connected:
                continue  # hidden meanwhile
            if gone:
                await self._send(other, ev.tracks_removed(peer_id, gone))
            await self._send(other, ev.endpoint_removed(peer_id))
            if gone:
                await self._renegotiate(other)

    def _unsubscribe(self, others: list[_Member], track_ids: list[str]) -> None:
        for other in others:
            if other.media is not None:
                for track_id in track_ids:
                    other.media.unsubscribe(track_id)

    async def _tell(self, others: list[_Member], data: str) -> None:
        """Send a tracksAdded/tracksRemoved to each still-visible peer, each followed by offerData."""
        for other in others:
            if other.connected:
                await self._send(other, data)
                await self._renegotiate(other)

    async def _renegotiate(self, member: _Member, *, requested: bool = False) -> None:
        """Send offerData, or note that another round is due once the open one ends."""
        media = member.media
        if media is None or not member.connected:
            return
        if member.negotiating:
            member.renegotiate_again = True
            return
        audio, video = media.track_counts()
        # An offerData with nothing to negotiate makes clients loop (RTC-228, ref 2.4).
        if not requested and audio == 0 and video == 0:
            return
        member.negotiating = True
        turn_servers = integrated_turn_servers(member.info.peer_id, self._config)
        await self._send(member, ev.offer_data(audio, video, turn_servers))

    # --- helpers ---------------------------------------------------------------------

    def _visible_others(self, member: _Member) -> list[_Member]:
        return [m for m in self._members.values() if m.connected and m is not member]

    async def _broadcast(self, member: _Member, data: str) -> None:
        for other in self._visible_others(member):
            await self._send(other, data)

    async def _send(self, member: _Member, data: str) -> None:
        try:
            await self._outbox.media_event(member.info, data)
        except Exception:
            # One unreachable peer must not stop the events due to the others.
            logger.exception("room %s: media event to peer %s lost", self.name, member.info.peer_id)

    async def _close_media(self, member: _Member) -> None:
        media, member.media = member.media, None
        member.negotiating = member.renegotiate_again = False
        if media is not None:
            await media.close()

    def _on_media_failed(self, peer_id: str) -> None:
        if self._closing or peer_id not in self._members:
            return
        logger.info("room %s: peer %s media failed", self.name, peer_id)
        # The owner removes the peer in order with everything else it handles.
        self._outbox.request_removal(peer_id, RemovalReason.MEDIA_FAILED)
