"""The Room: one SFU per live room, speaking media events with each peer.

Signaling follows the Membrane RTC Engine: a peer admitted by ``add_peer`` becomes a
visible endpoint on its ``connect`` event; its tracks are announced (``tracksAdded``)
once its offer is answered; every ``tracksAdded``/``tracksRemoved`` sent to a peer is
followed by an ``offerData`` round. docs/protocol.md ("Media events") has the order rules.

Every client event is checked before it changes anything (rooms/sfu/peer_checks.py,
bounds.py, offer_screen.py): a peer names only its own tracks, within the bounds of the
injected ``Limits``, at a bounded rate; a refusal is an ``error`` event to that peer only.
What one peer's changes tell the others is in fanout.py; what a moderator may do to
others, in moderation.py. Grants (rooms.grants) are enforced here: without ``publish``
an offer naming tracks is refused, without ``subscribe`` a peer is never given tracks.

Concurrency: everything runs on one event loop. State changes happen between awaits,
so each is atomic; a per-peer lock serializes one peer's events, and a per-peer
``negotiating`` flag keeps at most one offerData -> sdpOffer -> sdpAnswer round open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from rooms.limits import Limits
from rooms.logtext import clip
from rooms.messages import JoinRefusal, RemovalReason
from rooms.roomtypes import JoinRefused, PeerInfo, RoomOutbox
from rooms.sfu import bounds
from rooms.sfu import media_events as ev
from rooms.sfu import peer_checks as checks
from rooms.sfu.addresses import policy_for
from rooms.sfu.config import MediaConfig
from rooms.sfu.connect_timers import ConnectTimers
from rooms.sfu.fanout import subscribes
from rooms.sfu.members import Member, new_member
from rooms.sfu.moderation import Moderation, publishes
from rooms.sfu.peer_media import InvalidOffer, PeerMedia, PeerMediaFactory

logger = logging.getLogger(__name__)

# Sent once per flood: further events are dropped until the bucket refills.
RATE_LIMITED = "rate limited (media_event_burst, media_events_per_second)"


# The sender's offer names tracks to send (midToTrackId, trackIdToTrackMetadata).
NO_PUBLISH_GRANT = "not allowed to publish (no publish grant)"


class Room(Moderation):
    """An SFU room; implements rooms.roomtypes.RoomLike."""

    def __init__(
        self,
        name: str,
        *,
        outbox: RoomOutbox,
        media: MediaConfig,
        limits: Limits,
        media_factory: PeerMediaFactory | None = None,
    ) -> None:
        self.name = name
        self._outbox = outbox
        self._config = media
        self._limits = limits
        self._policy = policy_for(media)
        self._factory = media_factory or self._default_factory
        self._members: dict[str, Member] = {}
        self._closing = False
        self._timers = ConnectTimers(limits.connect_timeout_seconds, self._expired)
        self._voice_sends: set[asyncio.Task[None]] = set()

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
        # The room limit counts who others can see; admitted peers that have not connected
        # yet are bounded apart (as many again), so joins alone cannot grow the room.
        visible = sum(1 for m in self._members.values() if m.connected)
        if visible >= max_participants or len(self._members) - visible >= max_participants:
            raise JoinRefused(JoinRefusal.FULL)
        member = new_member(peer, self._limits, max_participants)
        self._members[peer.peer_id] = member
        self._timers.start(member)
        logger.info("room %s: peer %s admitted", self.name, peer.peer_id)

    async def remove_peer(self, peer_id: str, reason: RemovalReason) -> None:
        member = self._members.pop(peer_id, None)
        if member is None:
            return
        logger.info("room %s: peer %s removed (%s)", self.name, peer_id, reason)
        self._timers.stop(member)
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
        # Before any parsing: a flood costs its sender its events, and nobody else anything.
        if not member.bucket.take():
            if member.bucket.should_warn():
                logger.info("room %s: peer %s rate limited", self.name, peer_id)
                await self._send(member, ev.error(RATE_LIMITED))
            return
        try:
            event = ev.parse_client_event(data)
        except ev.MediaEventError as exc:
            logger.info(
                "room %s: peer %s sent a bad media event: %s", self.name, peer_id, clip(exc.message)
            )
            await self._send(member, ev.error(exc.message))
            return
        async with member.lock:
            if self._members.get(peer_id) is not member:
                return  # removed while waiting for the lock
            try:
                await self._dispatch(member, event)
            except ev.MediaEventError as exc:
                if self._members.get(peer_id) is member:
                    logger.info("room %s: peer %s: %s", self.name, peer_id, clip(exc.message))
                    await self._send(member, ev.error(exc.message))
            except Exception:
                # The one boundary for failures inside aiortc: the peer hears of it, the room
                # and the other peers carry on.
                if self._members.get(peer_id) is not member:
                    logger.debug("room %s: peer %s left during its event", self.name, peer_id)
                    return
                logger.exception("room %s: peer %s: media event failed", self.name, peer_id)
                await self._send(member, ev.error("internal error"))

    def can_resume(self, peer_id: str) -> bool:
        member = self._members.get(peer_id)
        # An unconnected peer's `connect` may be what got lost: it joins afresh instead.
        return (
            member is not None
            and member.connected
            and member.media is not None
            and member.info.resumable
            and not self._closing
        )

    def reattach(self, peer_id: str, channel: str) -> str:
        member = self._members[peer_id]
        previous = member.info.channel
        member.info = dataclasses.replace(member.info, channel=channel)
        logger.info("room %s: peer %s resumed on a new channel", self.name, peer_id)
        return previous

    async def resync(self, peer_id: str) -> None:
        member = self._members.get(peer_id)
        if member is None:
            return
        async with member.lock:
            if self._members.get(peer_id) is not member or not member.connected:
                return
            # `connected` again: the client replaces what it knew of the others with it.
            await self._send_snapshot(member)
            # An offerData, sdpOffer or sdpAnswer of the open round may be lost: start over.
            member.negotiating = member.renegotiate_again = False
            await self._renegotiate(member, requested=True)

    async def close(self, reason: RemovalReason) -> None:
        self._closing = True
        for peer_id in list(self._members):
            await self.remove_peer(peer_id, reason)
        # Timers of removed peers are cancelled; one already removing its peer finishes.
        await self._timers.wait()
        sends = list(self._voice_sends)
        for task in sends:
            task.cancel()
        await asyncio.gather(*sends, return_exceptions=True)
        logger.info("room %s: closed (%s)", self.name, reason)

    # --- events -------------------------------------------------------------------

    async def _dispatch(self, member: Member, event: ev.ClientEvent) -> None:
        if isinstance(event, ev.Connect):
            await self._connect(member, event)
        elif isinstance(event, ev.Unsupported):
            logger.debug("room %s: peer %s: %s ignored", self.name, member.info.peer_id, event.name)
        elif not member.connected or member.media is None:
            raise ev.MediaEventError("connect first")
        elif isinstance(event, ev.Disconnect):
            await self._hide(member)
            await self._close_media(member)
            self._timers.start(member)  # admitted, invisible: the squatting rule again
        elif isinstance(event, ev.UpdateEndpointMetadata):
            member.metadata = checks.endpoint_metadata(member, event.metadata, self._limits)
            await self._broadcast(member, ev.endpoint_updated(member.peer_id, member.metadata))
        elif isinstance(event, ev.UpdateTrackMetadata):
            await self._update_track(member, event)
        elif isinstance(event, ev.RenegotiateTracks):
            await self._renegotiate(member, requested=True)
        elif isinstance(event, ev.SdpOffer):
            await self._answer(member, member.media, event)
        elif isinstance(event, ev.ModerateTrack | ev.RemovePeer):
            await self._moderate(member, event)
        elif isinstance(event, ev.Candidate):
            candidate = checks.checked_candidate(
                member, event, self._limits, self._policy, self._label(member)
            )
            if candidate is not None:
                await member.media.add_candidate(candidate)

    async def _connect(self, member: Member, event: ev.Connect) -> None:
        if member.connected:
            raise ev.MediaEventError("already connected")
        metadata = checks.endpoint_metadata(member, event.metadata, self._limits)
        if sum(1 for m in self._members.values() if m.connected) >= member.max_participants:
            raise ev.MediaEventError("room full")  # stays unconnected: its timer removes it
        peer_id = member.info.peer_id
        member.metadata = metadata
        self._timers.stop(member)
        member.media = self._factory(self.name, peer_id, lambda: self._on_media_failed(peer_id))
        # Visible and subscribed in one step, before any await: a track published while the
        # events below are sent reaches this peer through _publish, exactly once.
        member.connected = True
        if subscribes(member):
            for other in self._visible_others(member):
                for published in other.published.values():
                    member.media.subscribe(published.source)
        has_tracks = await self._send_snapshot(member)
        await self._broadcast(member, ev.endpoint_added(peer_id, member.metadata))
        logger.info("room %s: peer %s connected", self.name, peer_id)
        if has_tracks:
            await self._renegotiate(member)

    async def _send_snapshot(self, member: Member) -> bool:
        """``connected`` with every visible other and its tracks; True if any has tracks.

        A peer without the subscribe grant sees the others but none of their tracks.
        """
        receives = subscribes(member)
        views = [
            ev.EndpointView(
                id=m.info.peer_id,
                metadata=m.metadata,
                tracks={tid: p.shown for tid, p in m.published.items()} if receives else {},
            )
            for m in self._visible_others(member)
        ]
        await self._send(member, ev.connected(member.info.peer_id, views))
        # Client 0.5.3 drops the tracks listed in `connected` (reference 2.7 a): repeat them.
        for view in views:
            if view.tracks:
                await self._send(member, ev.tracks_added(view.id, view.tracks))
        return any(view.tracks for view in views)

    async def _update_track(self, member: Member, event: ev.UpdateTrackMetadata) -> None:
        bounds.check_owned(member.peer_id, event.track_id)
        published = member.published.get(event.track_id)
        if published is None:
            raise ev.MediaEventError(f"unknown track {clip(event.track_id)!r}")
        bounds.check_track_metadata(event.track_id, event.metadata, self._limits)
        published.metadata = event.metadata
        # A moderator's mute stays in what the others see, whatever the publisher sends.
        message = ev.track_updated(member.info.peer_id, event.track_id, published.shown)
        for other in self._subscribers(member):
            await self._send(other, message)

    async def _answer(self, member: Member, media: PeerMedia, offer: ev.SdpOffer) -> None:
        peer_id = member.info.peer_id
        # Also for an offer nobody asked for: no offerData may cross it (ref 2.4).
        member.negotiating = True
        try:
            # Checked before any aiortc work: a refused offer costs no SDP parsing.
            if (offer.mid_to_track_id or offer.track_metadata) and not publishes(member):
                raise ev.MediaEventError(NO_PUBLISH_GRANT)
            offer = checks.checked_offer(
                member, offer, self._limits, self._policy, self._label(member)
            )
            outcome = await media.apply_offer(offer)
        except InvalidOffer as exc:
            member.negotiating = False
            raise ev.MediaEventError(f"invalid sdpOffer: {exc}") from None
        except ev.MediaEventError:
            member.negotiating = False
            raise
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

    async def _expired(self, member: Member) -> None:
        """A peer admitted but not connected within connect_timeout_seconds leaves."""
        if self._members.get(member.peer_id) is not member or member.connected:
            return
        logger.info("room %s: peer %s did not connect in time", self.name, member.peer_id)
        await self.remove_peer(member.peer_id, RemovalReason.CONNECT_TIMEOUT)

    def _label(self, member: Member) -> str:
        return f"room {self.name} peer {member.peer_id}"

    async def _close_media(self, member: Member) -> None:
        media, member.media = member.media, None
        member.negotiating = member.renegotiate_again = False
        member.forget_connection()
        if media is not None:
            await media.close()

    def _on_media_failed(self, peer_id: str) -> None:
        if self._closing or peer_id not in self._members:
            return
        logger.info("room %s: peer %s media failed", self.name, peer_id)
        # The owner removes the peer in order with everything else it handles.
        self._outbox.request_removal(peer_id, RemovalReason.MEDIA_FAILED)
