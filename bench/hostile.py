"""``python -m bench.hostile``: what hostile and sloppy peers cost everyone else (issue 9).

Runs the scenarios of tests/hostile (tests/hostile/floods.py and misuse.py), each against
a fresh daphne in the embedded default, for longer than the tests, and prints what the
bystanders saw. The server gets the default bounds of ``rooms.limits``, or the
``VIDEOROOM_LIMIT_*`` of this environment; ``--smoke`` runs each for seconds with the
tests' shorter connect timeout and send buffer.

- offer: the largest sdpOffer allowed, once a second: heartbeat RTT (p50/p95/max) of a
  socket in another room, join reply times of fresh sockets, another room's Opus frames/s
- metadata: three members stop reading, a fourth sends the largest endpoint metadata at
  the allowed rate: daphne's RSS growth, how the non-readers' connections ended
- squat, joinflood, theft, nan, surrogate: as the tests of the same names
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.cli import RESULTS, common_parser, save
from bench.loadgen.stats import percentile

SCENARIOS = ["offer", "metadata", "squat", "joinflood", "theft", "nan", "surrogate"]
MiB = 1024 * 1024


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f}"


def _joins(replies: list[Any]) -> str:
    times = [r.seconds for r in replies]
    late = sum(1 for r in replies if r.status != "ok" or r.seconds > 1.0)
    return (
        f"join reply p50 {_ms(percentile(times, 50))} / max {_ms(max(times, default=None))} ms "
        f"({late} of {len(replies)} refused or over 1 s)"
    )


async def _run(name: str, peers: Any, pid: int, smoke: bool, duration: float) -> tuple[str, Any]:
    from tests.hostile import floods, misuse

    if name == "offer":
        offer = await floods.run_offer_flood(peers, duration=3.0 if smoke else duration)
        rtts = offer.heartbeat_rtts
        return (
            f"{offer.offers_sent} offers of {offer.offer_bytes:,} B ({offer.offer_m_lines} "
            f"m-lines), attacker heard {offer.attacker_heard}; heartbeat RTT p50 "
            f"{_ms(offer.rtt(50))} / p95 {_ms(offer.rtt(95))} / max {_ms(max(rtts))} ms "
            f"({len(rtts)} beats); {_joins(offer.joins)}; other room's audio fps min "
            f"{offer.audio.minimum} mean {offer.audio.mean:.1f}",
            offer,
        )
    if name == "metadata":
        memory = await floods.run_metadata_flood(
            peers, pid, duration=3.0 if smoke else 4 * duration, drain=2.0 if smoke else 10.0
        )
        return (
            f"{memory.events_sent} updates of {memory.metadata_bytes:,} B; daphne RSS "
            f"{memory.rss_before / MiB:.1f} -> {memory.rss_max / MiB:.1f} MiB "
            f"(+{memory.rss_growth / MiB:.1f}); non-readers' TCP left ESTABLISHED after "
            f"{memory.cut_after} s, their streams ended with {memory.close_codes}",
            memory,
        )
    if name == "squat":
        squat = await misuse.run_squatters(peers, grace=2.0 if smoke else 6.0)
        return (
            f"{squat.squatters_joined} squatters; member join {squat.member.status} in "
            f"{_ms(squat.member.seconds)} ms, connected {squat.member_connected}; squatters "
            f"removed after {squat.removed_after} s; {squat.refills_joined} of "
            f"{squat.refills_tried} later joins fit",
            squat,
        )
    if name == "joinflood":
        flood = await floods.run_join_flood(
            peers, duration=2.0 if smoke else duration, after=1.0 if smoke else 5.0
        )
        return (
            f"{flood.joins_sent} join+leave from {flood.sockets_opened} sockets; during: "
            f"{_joins(flood.during)}; after: {_joins(flood.after)}",
            flood,
        )
    if name == "theft":
        theft = await misuse.run_track_theft(peers, window=2.0 if smoke else 5.0)
        return (
            f"viewer fps of the owner's video before {theft.before.per_second}, after the "
            f"thief withdrew the stolen id {theft.after.per_second}",
            theft,
        )
    if name == "nan":
        nan = await misuse.run_nan_metadata(peers)
        return f"{len(nan.unparsable)} texts a browser cannot parse", nan
    surrogate = await misuse.run_lone_surrogate(peers)
    return (
        f"join {surrogate.join.status} {surrogate.join.response}; admin change page HTTP "
        f"{surrogate.admin_status}",
        surrogate,
    )


async def _scenario(
    name: str, workdir: Path, overrides: dict[str, str], smoke: bool, duration: float
) -> dict[str, Any]:
    from tests.hostile.peers import peers_on
    from tests.hostile.server import hostile_daphne, load_average

    with hostile_daphne(workdir, overrides) as (server, limits):
        async with peers_on(server, limits) as peers:
            started = time.strftime("%H:%M:%S", time.gmtime())
            line, figures = await _run(name, peers, server.process.pid, smoke, duration)
    load = load_average()
    ended = time.strftime("%H:%M:%S", time.gmtime())
    print(f"{name:<10} {started}-{ended} UTC, load then {load}: {line}", flush=True)
    return {
        "scenario": name,
        "started_utc": started,
        "ended_utc": ended,
        "load": load,
        **asdict(figures),
    }


def main(argv: list[str] | None = None) -> int:
    from tests.hostile.server import TEST_LIMITS

    parser = common_parser(__doc__)
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {SCENARIOS}"
    )
    args = parser.parse_args(argv)
    names = [n for n in args.scenarios.split(",") if n]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    if args.duration == 30.0 and not args.smoke:
        args.duration = 20.0
    if args.smoke:
        overrides = dict(TEST_LIMITS)
    else:
        overrides = {k: v for k, v in os.environ.items() if k.startswith("VIDEOROOM_LIMIT_")}
    out = args.out or (None if args.smoke else RESULTS / "hostile.json")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        for name in names:
            workdir = Path(tmp) / name
            workdir.mkdir()
            rows.append(asyncio.run(_scenario(name, workdir, overrides, args.smoke, args.duration)))
    save(out, "hostile", rows, limits=overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
