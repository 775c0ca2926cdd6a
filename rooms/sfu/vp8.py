"""The VP8 RTP payload facts the forwarder reads (RFC 7741), without depacketizing.

A forwarded packet is never reassembled into a frame; the one thing the SFU must know is
where a key frame starts, so that a new subscriber's first packet is one.
"""

from __future__ import annotations


def descriptor_size(payload: bytes) -> int:
    """Length of the payload descriptor at the start of ``payload`` (RFC 7741 section 4.2).

    Raises IndexError when ``payload`` ends inside its descriptor.
    """
    size = 1
    if payload[0] & 0x80:  # X: an extension byte follows
        extension = payload[1]
        size = 2
        if extension & 0x80:  # I: a 7- or 15-bit picture id (M bit set: 15)
            size += 2 if payload[2] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            size += 1
        if extension & 0x30:  # T or K: one TID/Y/KEYIDX byte
            size += 1
    if size > len(payload):
        raise IndexError("VP8 payload descriptor truncated")
    return size


def starts_keyframe(payload: bytes) -> bool:
    """True for the first packet of a key frame.

    S=1 and PID=0 mark the start of a frame's first partition; there the VP8 payload
    header follows the descriptor, and its P bit (bit 0) is 0 for a key frame (RFC 6386
    section 9.1).
    """
    if not payload or not payload[0] & 0x10 or payload[0] & 0x07:
        return False
    try:
        size = descriptor_size(payload)
    except IndexError:
        return False
    return size < len(payload) and not payload[size] & 0x01
