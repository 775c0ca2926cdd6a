"""``python -m bench.capacity``: the largest all-video room one worker process carries.

Room sizes are tried in increasing order, each on a fresh server; a size passes when the
bots receive at least 99% of the packets their peers sent in the window and the p95
end-to-end latency (stamp in the payload, all streams) is under 100 ms. The search
stops at the first failing size. On a shared 2-core machine the bots compete with the
server for CPU, so the result is a lower bound for a dedicated worker core.
"""

from __future__ import annotations

import sys
from typing import Any

from bench.cli import RESULTS, TABLE_HEADER, common_parser, int_list, point_row, save, system_list

MIN_DELIVERED = 0.99
MAX_P95_MS = 100.0


def passes(result: dict[str, Any]) -> tuple[bool, str]:
    """Whether a load run meets the capacity criteria, and why not."""
    delivered = result["packets_delivered"] or 0.0
    p95 = result["latency_ms"]["all"]["p95"]
    if result["bots_failed"]:
        return False, f"bots failed: {result['bots_failed'][:2]}"
    if delivered < MIN_DELIVERED:
        return False, f"delivered {100 * delivered:.2f}% < {100 * MIN_DELIVERED:.0f}%"
    if p95 is None or p95 >= MAX_P95_MS:
        return False, f"p95 latency {p95} ms >= {MAX_P95_MS:.0f} ms"
    return True, "ok"


def main(argv: list[str] | None = None) -> int:
    from bench.systems import run_point

    parser = common_parser(__doc__)
    parser.add_argument("--systems", type=system_list, default=["videoroom"])
    parser.add_argument("--sizes", type=int_list, default=int_list("2,4,6,8,10,12,14,16,20,24"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.duration, args.warmup = [2], 3.0, 1.0
    out = args.out or (None if args.smoke else RESULTS / "capacity.json")
    rows = []
    best: dict[str, int] = {}
    print(TABLE_HEADER)
    for system in args.systems:
        best[system] = 0
        for size in args.sizes:
            result = run_point(
                system,
                size,
                duration=args.duration,
                warmup=args.warmup,
                janus_event_loops=args.janus_event_loops,
            )
            ok, why = passes(result)
            result["passes"], result["verdict"] = ok, why
            rows.append(result)
            print(point_row(result), "" if ok else f"  FAIL: {why}", flush=True)
            if not ok:
                break
            best[system] = size
    for system, size in best.items():
        print(f"{system}: largest passing room {size} participants")
    save(out, "capacity", rows, largest=best)
    return 0


if __name__ == "__main__":
    sys.exit(main())
