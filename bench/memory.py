"""``python -m bench.memory``: resident memory per peer in the server process.

For each room size N the server starts fresh; its RSS is read idle, then again at the end
of the measured window with N publishing and subscribing peers. The figure is the
least-squares slope of RSS against N (MB per peer), with (loaded - idle) / N per point.
"""

from __future__ import annotations

import sys

from bench.cli import RESULTS, common_parser, fit_slope, fmt, int_list, save, system_list


def main(argv: list[str] | None = None) -> int:
    from bench.systems import run_point

    parser = common_parser(__doc__)
    parser.add_argument("--systems", type=system_list, default=["videoroom", "janus"])
    parser.add_argument("--sizes", type=int_list, default=int_list("2,4,8,12"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.duration, args.warmup = [2], 2.0, 1.0
    elif args.duration == 30.0:
        args.duration = 10.0
    out = args.out or (None if args.smoke else RESULTS / "memory.json")
    rows = []
    print(f"{'system':<10} {'N':>3} {'idle MB':>8} {'loaded MB':>9} {'MB/peer':>8}")
    for system in args.systems:
        for size in args.sizes:
            result = run_point(
                system,
                size,
                duration=args.duration,
                warmup=args.warmup,
                janus_event_loops=args.janus_event_loops,
            )
            loaded = max(p["rss_mb"] for p in result["server_processes"].values())
            result["rss_loaded_mb"] = loaded
            result["mb_per_peer"] = (loaded - result["server_idle_rss_mb"]) / size
            rows.append(result)
            print(
                f"{system:<10} {size:>3} {result['server_idle_rss_mb']:>8.1f} {loaded:>9.1f} "
                f"{result['mb_per_peer']:>8.2f}",
                flush=True,
            )
    for system in args.systems:
        points = [r for r in rows if r["system"] == system]
        slope = fit_slope([r["participants"] for r in points], [r["rss_loaded_mb"] for r in points])
        print(f"{system}: {fmt(slope, '.2f')} MB per peer (slope)")
    save(out, "memory", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
