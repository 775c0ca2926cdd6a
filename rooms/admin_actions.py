"""What the admin does to live rooms: list, kick and close, through the room's owner.

The admin never touches a Room directly: it asks the registry which worker owns
the room and sends that worker ``room.kick`` or ``room.close`` over the channel
layer, exactly as a consumer would. The worker removes the peers, and their
consumers turn ``peer.removed`` into ``phx_close``.

Registry and layer are injectable for tests; by default they are this event
loop's registry and the default channel layer.
"""

from __future__ import annotations

import logging
import re

from channels.layers import BaseChannelLayer, get_channel_layer

from rooms import messages
from rooms.names import PEER_ID_MAX_LENGTH, PEER_ID_PATTERN, InvalidRoomName, validate_room_name
from rooms.registry import LivePeer, Registry, get_registry

logger = logging.getLogger(__name__)

_PEER_ID = re.compile(PEER_ID_PATTERN)


class AdminActionError(ValueError):
    """An admin request that cannot be carried out; the message is shown to the admin."""


class InvalidInput(AdminActionError):
    """A room name or peer id outside the accepted alphabet or length."""


class UnknownParticipant(AdminActionError):
    """The room is live but has no participant with that peer id."""


def validate_peer_id(peer_id: object) -> str:
    if not isinstance(peer_id, str) or not _PEER_ID.fullmatch(peer_id):
        raise InvalidInput(f"A peer id is 1 to {PEER_ID_MAX_LENGTH} letters, digits, '-' or '_'.")
    return peer_id


def _room_name(room: object) -> str:
    if not isinstance(room, str):
        raise InvalidInput("A room name is a string.")
    try:
        return validate_room_name(room)
    except InvalidRoomName as error:
        raise InvalidInput(str(error)) from None


def _layer(layer: BaseChannelLayer | None) -> BaseChannelLayer:
    found = layer if layer is not None else get_channel_layer()
    if found is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured")
    return found


async def live_participants(room: str, *, registry: Registry | None = None) -> list[LivePeer]:
    """The room's live peers as its owner last published them; empty if it is not live."""
    name = _room_name(room)
    registry = registry or await get_registry()
    return await registry.live_peers(name)


async def live_counts(*, registry: Registry | None = None) -> dict[str, int]:
    """Live participant count of every live room, by room name."""
    registry = registry or await get_registry()
    return {name: len(await registry.live_peers(name)) for name in await registry.live_rooms()}


async def kick_participant(
    room: str,
    peer_id: str,
    *,
    registry: Registry | None = None,
    layer: BaseChannelLayer | None = None,
) -> bool:
    """Ask the room's owner to remove one peer (it gets ``phx_close``).

    Returns False if the room is not live. Raises UnknownParticipant if the room
    is live but the peer is not in it, InvalidInput for malformed arguments.
    """
    name = _room_name(room)
    peer_id = validate_peer_id(peer_id)
    registry = registry or await get_registry()
    owner = await registry.owner(name)
    if owner is None:
        return False
    if peer_id not in {peer.peer_id for peer in await registry.live_peers(name)}:
        raise UnknownParticipant(f"No participant {peer_id} is in room {name}.")
    await _layer(layer).send(owner.channel, messages.room_kick(name, peer_id))
    logger.info("room %s peer %s: kick sent to worker %s", name, peer_id, owner.worker_id)
    return True


async def close_room(
    room: str,
    *,
    registry: Registry | None = None,
    layer: BaseChannelLayer | None = None,
) -> bool:
    """Ask the room's owner to close it (every peer gets ``phx_close``).

    Returns False if the room is not live, so there was nothing to close.
    """
    name = _room_name(room)
    registry = registry or await get_registry()
    owner = await registry.owner(name)
    if owner is None:
        return False
    await _layer(layer).send(owner.channel, messages.room_close(name))
    logger.info("room %s: close sent to worker %s", name, owner.worker_id)
    return True
