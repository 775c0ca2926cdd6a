"""The one place where room names, Phoenix topics and Channels group names meet.

A topic ``room:<name>`` maps to the group ``room.<name>``: ``:`` is illegal in
Channels group names, which must also stay under 100 characters. Room names are
restricted to a safe alphabet so that the mapping is the identity on the name.
"""

from __future__ import annotations

import re

TOPIC_PREFIX = "room:"
GROUP_PREFIX = "room."
# 64 characters keeps every derived name (group, Redis keys) well under 100.
ROOM_NAME_MAX_LENGTH = 64
ROOM_NAME_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{ROOM_NAME_MAX_LENGTH - 1}}}"
ROOM_NAME_RULE = "1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
_ROOM_NAME = re.compile(ROOM_NAME_PATTERN)
# Peer ids are shortuuids (22 characters); the participation history stores up to 40.
PEER_ID_MAX_LENGTH = 40
PEER_ID_PATTERN = rf"[A-Za-z0-9_-]{{1,{PEER_ID_MAX_LENGTH}}}"


class InvalidRoomName(ValueError):
    """A room name or topic outside the accepted alphabet or length."""


def is_valid_room_name(name: str) -> bool:
    return bool(_ROOM_NAME.fullmatch(name))


def validate_room_name(name: str) -> str:
    if not isinstance(name, str) or not is_valid_room_name(name):
        raise InvalidRoomName(f"room names are {ROOM_NAME_RULE}")
    return name


def room_name_from_topic(topic: str) -> str:
    """``room:<name>`` -> ``<name>``; raises InvalidRoomName otherwise."""
    if not topic.startswith(TOPIC_PREFIX):
        raise InvalidRoomName(f"topic must start with {TOPIC_PREFIX!r}")
    return validate_room_name(topic[len(TOPIC_PREFIX) :])


def topic_for(room_name: str) -> str:
    return TOPIC_PREFIX + room_name


def group_for(room_name: str) -> str:
    """The Channels group of a room's peers; also the room's registry key."""
    return GROUP_PREFIX + validate_room_name(room_name)
