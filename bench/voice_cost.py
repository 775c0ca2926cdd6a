"""``python -m bench.voice_cost``: what the voice-activity detector adds to an audio packet.

``Publication.on_rtp`` of an audio track with no subscription, timed with
``time.process_time`` over the same packets with and without the RFC 6464 audio level
(aiortc parses the extension before the tap either way; only the detector's work
differs). Levels alternate between speech and silence every second of packets, so both
hysteresis paths and the status changes are exercised; the changes go to a no-op callback.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiortc.rtp import RtpPacket

from rooms.sfu.forwarding import Publication


async def _no_pli() -> None:
    return None


def _packets(count: int, with_level: bool) -> list[RtpPacket]:
    packets = []
    for seq in range(count):
        packet = RtpPacket(
            payload_type=111, sequence_number=seq & 0xFFFF, timestamp=seq * 960, ssrc=1
        )
        packet.payload = b"\xfc" + bytes(80)
        if with_level:
            packet.extensions.audio_level = (False, 20 if (seq // 50) % 2 else 100)
        packets.append(packet)
    return packets


def _time(packets: list[RtpPacket], rounds: int) -> float:
    """Microseconds per packet, the best of ``rounds`` fresh publications."""
    best = float("inf")
    for _ in range(rounds):
        publication = Publication("p:a", "audio", _no_pli, endpoint_id="p")
        publication.on_voice_activity(lambda *_: None)
        on_rtp = publication.on_rtp
        start = time.process_time()
        for packet in packets:
            on_rtp(packet)
        best = min(best, (time.process_time() - start) / len(packets) * 1e6)
    return best


async def _main(count: int, rounds: int) -> None:
    without = _time(_packets(count, False), rounds)
    with_level = _time(_packets(count, True), rounds)
    print(f"on_rtp, audio, no subscription, {count} packets, best of {rounds}:")
    print(f"  without audio level: {without:.2f} us/packet")
    print(f"  with audio level:    {with_level:.2f} us/packet ({with_level - without:+.2f} us)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.packets, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
