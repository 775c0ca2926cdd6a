"""Where a VP8 key frame starts, from the RTP payload alone (RFC 7741)."""

from __future__ import annotations

import pytest

from rooms.sfu.vp8 import descriptor_size, starts_keyframe


@pytest.mark.parametrize(
    ("payload", "size"),
    [
        (bytes([0x10, 0x9D]), 1),  # no extension
        (bytes([0x90, 0x00, 0x9D]), 2),  # X with nothing in it
        (bytes([0x90, 0x80, 0x05, 0x9D]), 3),  # 7-bit picture id
        (bytes([0x90, 0x80, 0x81, 0x02, 0x9D]), 4),  # 15-bit picture id (aiortc, Chrome)
        (bytes([0x90, 0xE0, 0x81, 0x02, 0x07, 0x40, 0x9D]), 6),  # I, L and T
    ],
)
def test_descriptor_size(payload: bytes, size: int) -> None:
    assert descriptor_size(payload) == size


def test_a_truncated_descriptor_is_an_index_error() -> None:
    with pytest.raises(IndexError):
        descriptor_size(bytes([0x90, 0x80, 0x81]))


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (bytes([0x90, 0x80, 0x81, 0x02, 0x50]), True),  # S=1, PID=0, P=0
        (bytes([0x90, 0x80, 0x81, 0x02, 0x51]), False),  # P=1: an inter frame
        (bytes([0x80, 0x80, 0x81, 0x02, 0x50]), False),  # S=0: not a frame's first packet
        (bytes([0x11, 0x50]), False),  # PID=1: not the first partition
        (bytes([0x90, 0x80, 0x81, 0x02]), False),  # nothing after the descriptor
        (bytes([0x90, 0x80]), False),  # truncated
        (b"", False),
    ],
)
def test_starts_keyframe(payload: bytes, key: bool) -> None:
    assert starts_keyframe(payload) is key
