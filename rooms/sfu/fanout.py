"""What one peer's changes send to the others: tracksAdded/tracksRemoved, offerData rounds.

The half of the Room (rooms/sfu/room.py) that tells peers about each other; it reads the
members and never takes client input itself. The order rules are in docs/protocol.md.
A peer without the ``subscribe`` grant (rooms.grants) sees the others' endpoints but never
their tracks: no tracksAdded, tracksRemoved or trackUpdated, no subscription.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rooms.grants import Grant
from rooms.ice import integrated_turn_servers
from rooms.roomtypes import RoomOutbox
from rooms.sfu import media_events as ev
from rooms.sfu.config import MediaConfig
from rooms.sfu.members import Member, Published
from rooms.sfu.peer_media import TrackSource
from rooms.sfu.voice_activity import VoiceStatus
from rooms.tasks import spawn

logger = logging.getLogger(__name__)


class Fanout:
    """Publishing, hiding and negotiation rounds over ``_members``; the Room's base."""

    name: str
    _config: MediaConfig
    _outbox: RoomOutbox
    _members: dict[str, Member]
    _closing: bool
    _voice_sends: set[asyncio.Task[None]]  # vadNotification deliveries under way

    async def _publish(
        self, member: Member, sources: list[TrackSource], metadata: dict[str, dict[str, Any]]
    ) -> None:
        tracks: dict[str, dict[str, Any]] = {}
        for source in sources:
            member.published[source.track_id] = Published(source, metadata.get(source.track_id, {}))
            tracks[source.track_id] = member.published[source.track_id].shown
            source.on_voice_activity(self._voice_changed)
        logger.info("room %s: peer %s publishes %s", self.name, member.info.peer_id, list(tracks))
        # State first, for everyone, before any await; then the events.
        others = self._subscribers(member)
        for other in others:
            if other.media is not None:
                for source in sources:
                    other.media.subscribe(source)
        await self._tell(others, ev.tracks_added(member.info.peer_id, tracks))

    async def _unpublish(self, member: Member, track_ids: list[str]) -> None:
        gone = [tid for tid in track_ids if member.published.pop(tid, None) is not None]
        if not gone:
            return
        logger.info("room %s: peer %s unpublishes %s", self.name, member.info.peer_id, gone)
        others = self._subscribers(member)
        self._unsubscribe(others, member.peer_id, gone)
        await self._tell(others, ev.tracks_removed(member.info.peer_id, gone))

    def _voice_changed(self, endpoint_id: str, track_id: str, status: VoiceStatus) -> None:
        """A published audio track's speech/silence change (from its RTP path): tell its
        subscribers. The detector's hysteresis bounds how often this comes per track."""
        member = self._members.get(endpoint_id)
        if self._closing or member is None or track_id not in member.published:
            return  # gone meanwhile: whoever saw the track has had tracksRemoved
        task = spawn(
            self._tell_voice(member, ev.vad_notification(track_id, status)),
            name=f"vad-{self.name}-{endpoint_id}",
        )
        self._voice_sends.add(task)
        task.add_done_callback(self._voice_sends.discard)

    async def _tell_voice(self, member: Member, data: str) -> None:
        for other in self._subscribers(member):
            await self._send(other, data)

    async def _hide(self, member: Member) -> None:
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
        self._unsubscribe([other for other in others if subscribes(other)], peer_id, gone)
        for other in others:
            if not other.connected:
                continue  # hidden meanwhile
            saw_tracks = bool(gone) and subscribes(other)
            if saw_tracks:
                await self._send(other, ev.tracks_removed(peer_id, gone))
            await self._send(other, ev.endpoint_removed(peer_id))
            if saw_tracks:
                await self._renegotiate(other)

    def _unsubscribe(self, others: list[Member], owner: str, track_ids: list[str]) -> None:
        for other in others:
            if other.media is not None:
                for track_id in track_ids:
                    other.media.unsubscribe(owner, track_id)

    async def _tell(self, others: list[Member], data: str) -> None:
        """Send a tracksAdded/tracksRemoved to each still-visible peer, each followed by offerData."""
        for other in others:
            if other.connected:
                await self._send(other, data)
                await self._renegotiate(other)

    async def _renegotiate(self, member: Member, *, requested: bool = False) -> None:
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

    def _visible_others(self, member: Member) -> list[Member]:
        return [m for m in self._members.values() if m.connected and m is not member]

    def _subscribers(self, member: Member) -> list[Member]:
        """The visible others that receive tracks: those with the subscribe grant."""
        return [m for m in self._visible_others(member) if subscribes(m)]

    async def _broadcast(self, member: Member, data: str) -> None:
        for other in self._visible_others(member):
            await self._send(other, data)

    async def _send(self, member: Member, data: str) -> None:
        try:
            await self._outbox.media_event(member.info, data)
        except Exception:
            # One unreachable peer must not stop the events due to the others.
            logger.exception("room %s: media event to peer %s lost", self.name, member.info.peer_id)


def subscribes(member: Member) -> bool:
    return Grant.SUBSCRIBE in member.info.grants
