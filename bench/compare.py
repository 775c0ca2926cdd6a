"""``python -m bench.compare``: this project against Janus VideoRoom and the transcoding baseline.

One run measures the same all-to-all room (N bots, VP8 + Opus) on the three systems, then
times probe joins into each busy room, and prints this project's ratios to Janus (and to
the baseline) for CPU per forwarded packet, total CPU and join time.
"""

from __future__ import annotations

import sys
from typing import Any

from bench.cli import RESULTS, TABLE_HEADER, common_parser, fmt, point_row, save, system_list
from bench.loadgen.stats import percentile


def _join_stats(result: dict[str, Any]) -> tuple[float | None, float | None]:
    first = [p["first_keyframe_s"] for p in result.get("join_probes", []) if p["first_keyframe_s"]]
    return percentile(first, 50), percentile(first, 95)


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "n/a" if not ours or not theirs else f"{ours / theirs:.2f}x"


def main(argv: list[str] | None = None) -> int:
    from bench.systems import run_point

    parser = common_parser(__doc__)
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--probes", type=int, default=20, help="timed joins per system")
    parser.add_argument("--systems", type=system_list, default=["videoroom", "janus", "transcode"])
    args = parser.parse_args(argv)
    if args.smoke:
        args.participants, args.probes, args.duration, args.warmup = 2, 2, 3.0, 1.0
    results: dict[str, dict[str, Any]] = {}
    print(TABLE_HEADER)
    for system in args.systems:
        result = run_point(
            system,
            args.participants,
            duration=args.duration,
            warmup=args.warmup,
            # The baseline's join time is not a question, and its saturated worker makes
            # each probe wait for its timeout.
            extra=("--join-probes", str(0 if system == "transcode" else args.probes)),
            janus_event_loops=args.janus_event_loops,
        )
        results[system] = result
        print(point_row(result), flush=True)
    print()
    print(f"{'system':<10} {'us/pkt':>8} {'CPU %':>7} {'join p50 s':>10} {'join p95 s':>10}")
    for system, result in results.items():
        p50, p95 = _join_stats(result)
        print(
            f"{system:<10} {fmt(result['server_us_per_forwarded_packet']):>8} "
            f"{result['server_cpu_percent']:>7.1f} {fmt(p50, '.3f'):>10} {fmt(p95, '.3f'):>10}"
        )
    ours = results.get("videoroom")
    for other in ("janus", "transcode"):
        theirs = results.get(other)
        if ours is None or theirs is None:
            continue
        print(
            f"videoroom/{other}: CPU per forwarded packet "
            f"{_ratio(ours['server_us_per_forwarded_packet'], theirs['server_us_per_forwarded_packet'])}, "
            f"total CPU {_ratio(ours['server_cpu_percent'], theirs['server_cpu_percent'])}, "
            f"join p50 {_ratio(_join_stats(ours)[0], _join_stats(theirs)[0])}, "
            f"join p95 {_ratio(_join_stats(ours)[1], _join_stats(theirs)[1])}"
        )
    out = args.out or (None if args.smoke else RESULTS / "compare.json")
    save(out, "compare", list(results.values()), participants=args.participants)
    failed = [f for r in results.values() for f in r["bots_failed"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
