"""``python -m bench.cpu_per_packet``: server CPU per forwarded packet against room size.

For each system and each room size N: a fresh server, one room of N bots each publishing
VP8 (~1 Mbit/s, ~110 packets/s) and Opus (50 packets/s) and subscribing to everyone, a
warm-up, then a measured window. CPU is the server process's utime+stime over the window
(all threads); forwarded packets are the RTP packets the bots received in it. The
marginal cost is the least-squares slope of CPU seconds/s against forwarded packets/s.
"""

from __future__ import annotations

import sys

from bench.cli import (
    RESULTS,
    TABLE_HEADER,
    common_parser,
    fit_slope,
    fmt,
    int_list,
    point_row,
    save,
    system_list,
)
from bench.systems import run_point

DEFAULT_SIZES = "2,4,8,10,12,16,20"  # 10: the "under 50% of a core" target
# Decoding and re-encoding every stream saturates a core from about 4 participants.
DEFAULT_TRANSCODE_MAX = 4


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(__doc__)
    parser.add_argument("--systems", type=system_list, default=["videoroom"])
    parser.add_argument("--sizes", type=int_list, default=int_list(DEFAULT_SIZES))
    parser.add_argument("--transcode-max", type=int, default=DEFAULT_TRANSCODE_MAX)
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.duration, args.warmup = [2, 3], 3.0, 1.0
    out = args.out or (None if args.smoke else RESULTS / "cpu_per_packet.json")
    rows = []
    print(TABLE_HEADER)
    for system in args.systems:
        for size in args.sizes:
            if system == "transcode" and size > args.transcode_max:
                continue
            result = run_point(
                system,
                size,
                duration=args.duration,
                warmup=args.warmup,
                janus_event_loops=args.janus_event_loops,
            )
            rows.append(result)
            print(point_row(result), flush=True)
    for system in args.systems:
        points = [r for r in rows if r["system"] == system]
        slope = fit_slope(
            [r["received_pps"] for r in points], [r["server_cpu_percent"] / 100 for r in points]
        )
        print(f"{system}: marginal {fmt(slope and slope * 1e6)} us per forwarded packet")
    save(out, "cpu_per_packet", rows)
    failed = [f for r in rows for f in r["bots_failed"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
