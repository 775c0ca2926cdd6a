"""``python -m bench.loadgen``: synthetic participants against a running server.

Example, 2 rooms of 4 against a local videoroom, server worker pid 1234 watched:

    .venv/bin/python -m bench.loadgen --url 'ws://127.0.0.1:8000/socket/websocket?vsn=2.0.0' \\
        --rooms 2 --participants 4 --duration 30 --watch-pid 1234 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from bench.loadgen.report import print_summary
from bench.loadgen.run import LoadConfig, run_load


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--url", required=True, help="websocket URL of the server")
    parser.add_argument("--protocol", choices=("membrane", "janus"), default="membrane")
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--participants", type=int, default=2, help="bots per room")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--join-gap", type=float, default=0.2, help="seconds between joins")
    parser.add_argument("--room-prefix", default="bench")
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--video-kbps", type=int, default=1000)
    parser.add_argument(
        "--host-address",
        action="append",
        default=[],
        help="gather ICE candidates only on this address (repeatable), e.g. 127.0.0.1",
    )
    parser.add_argument(
        "--watch-pid", type=int, action="append", default=[], help="server pid to measure"
    )
    parser.add_argument("--janus-room", type=int, default=1234, help="first Janus room id")
    parser.add_argument(
        "--join-probes", type=int, default=0, help="timed joins into room 0 after the window"
    )
    parser.add_argument("--json", help="write the full result here")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO)
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.WARNING)
    config = LoadConfig(
        url=args.url,
        protocol=args.protocol,
        rooms=args.rooms,
        participants=args.participants,
        duration=args.duration,
        warmup=args.warmup,
        join_gap=args.join_gap,
        room_prefix=args.room_prefix,
        video=not args.no_video,
        audio=not args.no_audio,
        video_kbps=args.video_kbps,
        host_addresses=tuple(args.host_address),
        watch_pids=tuple(args.watch_pid),
        janus_room=args.janus_room,
        join_probes=args.join_probes,
    )
    result = asyncio.run(run_load(config))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    print_summary(result)
    return 0 if not result["bots_failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
