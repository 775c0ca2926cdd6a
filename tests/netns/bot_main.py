"""One synthetic Membrane participant for a fixed time; prints what it received as JSON.

    python -m tests.netns.bot_main URL ROOM NAME SECONDS

Run inside a client namespace (``ip netns exec``) or not. It publishes a VP8 clip and an
Opus clip (bench.loadgen.MembraneBot, the join reply's ICE servers), and reports per
remote track the packets and frames it received, and the type of its nominated local ICE
candidate (``relay`` when through TURN) with the transport of that TURN allocation.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from bench.loadgen import tap
from bench.loadgen.bot import BotMedia
from bench.loadgen.membrane_bot import MembraneBot
from bench.media import audio_clip, video_clip


def _nominated(bot: MembraneBot) -> dict[str, Any] | None:
    # Test-only reads of aiortc/aioice internals: the nominated pair of the bundle transport.
    pc = bot._pc
    if pc is None or not pc.getTransceivers():
        return None
    connection = pc.getTransceivers()[0].sender.transport.transport._connection
    pair = connection._nominated.get(1)
    if pair is None:
        return None
    local = pair.local_candidate
    # A relay candidate's socket is an aioice TurnTransport around a UDP or TCP TURN client.
    turn_client = getattr(pair.protocol.transport, "_TurnTransport__inner_protocol", None)
    return {
        "type": local.type,
        "address": local.host,
        "turn_client": type(turn_client).__name__ if turn_client is not None else None,
    }


async def main(url: str, room: str, name: str, seconds: float) -> dict[str, Any]:
    tap.install()  # count received RTP instead of decoding it
    media = BotMedia(video=video_clip(bitrate=300_000, seconds=4.0), audio=audio_clip(seconds=4.0))
    bot = MembraneBot(name, media, url=url, room=room)
    result: dict[str, Any] = {"name": name}
    try:
        await bot.start()
        await asyncio.sleep(seconds)
        result["candidate"] = _nominated(bot)
        result["streams"] = {
            tid: s.snapshot() | {"kind": s.kind, "publisher": s.publisher}
            for tid, s in bot.streams.items()
        }
        result["error"] = bot.error
    except Exception as exc:  # reported, not raised: the test reads the JSON
        result["error"] = repr(exc)
    finally:
        await bot.close()
    return result


if __name__ == "__main__":
    url, room, name, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    print(json.dumps(asyncio.run(main(url, room, name, seconds))))
