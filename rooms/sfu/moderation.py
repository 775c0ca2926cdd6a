"""What a peer with the ``moderate`` grant may do to the others: mute a track, remove a peer.

The half of the Room (rooms/sfu/room.py) that handles the ``moderateTrack`` and
``removePeer`` custom events. Everything is checked before anything changes: the sender's
grant, the target (another visible peer), the track (one the target publishes). A refusal
is an ``error`` event to the sender only.

A mute is the server's, not the publisher's: the publication forwards nothing to anyone
(rooms.sfu.forwarding.Publication.set_muted) and the track's metadata, as every subscriber
sees it, carries ``"mutedBy": "moderator"`` until a moderator unmutes it, whatever the
publisher sends meanwhile. Each applied action goes to ``RoomOutbox.moderated`` for the
participation history.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from rooms.grants import Grant
from rooms.logtext import clip
from rooms.messages import RemovalReason
from rooms.moderation import ModerationKind, ModerationRecord
from rooms.sfu import media_events as ev
from rooms.sfu.fanout import Fanout
from rooms.sfu.members import Member

logger = logging.getLogger(__name__)

NO_MODERATE_GRANT = "not allowed to moderate (no moderate grant)"
NOT_YOURSELF = "a moderator cannot moderate itself"


def publishes(member: Member) -> bool:
    return Grant.PUBLISH in member.info.grants


class Moderation(Fanout):
    """Moderator actions over ``_members``; a base of the Room, after Fanout."""

    async def remove_peer(self, peer_id: str, reason: RemovalReason) -> None:
        raise NotImplementedError  # the Room's

    async def _moderate(self, member: Member, event: ev.ModerateTrack | ev.RemovePeer) -> None:
        if Grant.MODERATE not in member.info.grants:
            logger.warning(
                "room %s: peer %s sent a moderator event without the moderate grant",
                self.name,
                member.peer_id,
            )
            raise ev.MediaEventError(NO_MODERATE_GRANT)
        target = self._target(member, event.peer_id)
        if isinstance(event, ev.ModerateTrack):
            await self._mute(member, target, event)
        else:
            await self._remove(member, target)

    def _target(self, member: Member, peer_id: str) -> Member:
        if peer_id == member.peer_id:
            raise ev.MediaEventError(NOT_YOURSELF)
        target = self._members.get(peer_id)
        # Only peers the moderator can see: an admitted peer that has not connected is no one's.
        if target is None or not target.connected:
            raise ev.MediaEventError(f"unknown peer {clip(peer_id, 100)!r}")
        return target

    async def _mute(self, member: Member, target: Member, event: ev.ModerateTrack) -> None:
        published = target.published.get(event.track_id)
        if published is None:
            if not event.track_id.startswith(f"{target.peer_id}:"):
                raise ev.MediaEventError(
                    f"track id {clip(event.track_id, 100)!r} is not peer {target.peer_id!r}'s"
                )
            raise ev.MediaEventError(
                f"unknown track {clip(event.track_id, 100)!r} of peer {target.peer_id!r}"
            )
        if published.muted_by_moderator == event.muted:
            return  # already so: nothing changes, nothing to record
        published.muted_by_moderator = event.muted
        published.source.set_muted(event.muted)
        logger.info(
            "room %s: moderator %s %s track %s of peer %s",
            self.name,
            member.peer_id,
            "muted" if event.muted else "unmuted",
            event.track_id,
            target.peer_id,
        )
        kind = ModerationKind.MUTE_TRACK if event.muted else ModerationKind.UNMUTE_TRACK
        self._record(member, kind, target, event.track_id)
        message = ev.track_updated(target.peer_id, event.track_id, published.shown)
        for other in self._subscribers(target):
            await self._send(other, message)

    async def _remove(self, member: Member, target: Member) -> None:
        logger.info(
            "room %s: moderator %s removes peer %s", self.name, member.peer_id, target.peer_id
        )
        self._record(member, ModerationKind.REMOVE_PEER, target, "")
        reason = RemovalReason.REMOVED_BY_MODERATOR
        # Before its channel closes: the page tells its user why it is out.
        await self._send(target, ev.endpoint_removed(target.peer_id, reason.value))
        await self.remove_peer(target.peer_id, reason)

    def _record(self, member: Member, kind: ModerationKind, target: Member, track_id: str) -> None:
        self._outbox.moderated(
            ModerationRecord(
                room=self.name,
                moderator_id=member.peer_id,
                moderator_name=_name(member),
                kind=kind,
                target_id=target.peer_id,
                target_name=_name(target),
                track_id=track_id,
                at=datetime.now(UTC),
            )
        )


def _name(member: Member) -> str:
    name = member.metadata.get("displayName")
    return name if isinstance(name, str) and name else member.info.display_name
