"""``python -m bench.join_time``: time from join request to first remote keyframe, busy room.

A room of N bots runs (everyone publishing and subscribing); then ``--joins`` probe bots
join it one after the other. Each probe's time runs from its first request (``phx_join``
for this project, Janus's ``create``) to the first complete keyframe of a remote video
track ("first"), and until every remote video track has shown one ("all"). The probe
leaves before the next one joins.

A probe that does not see every remote keyframe within its limit counts as failed, and so
does every probe not run because a bot of the room failed meanwhile: "failed" counts
both, the percentiles are over the other joins, and each distinct reason is printed.
"""

from __future__ import annotations

import sys
from collections import Counter

from bench.cli import RESULTS, common_parser, fmt, save, system_list
from bench.loadgen.stats import percentile


def main(argv: list[str] | None = None) -> int:
    from bench.systems import run_point

    parser = common_parser(__doc__)
    parser.add_argument("--systems", type=system_list, default=["videoroom", "janus"])
    parser.add_argument("--participants", type=int, default=6, help="bots already in the room")
    parser.add_argument("--joins", type=int, default=50)
    args = parser.parse_args(argv)
    if args.smoke:
        args.participants, args.joins = 2, 2
    out = args.out or (None if args.smoke else RESULTS / "join_time.json")
    rows = []
    print(
        f"{'system':<10} {'N':>3} {'joins':>5} {'first p50':>9} {'first p95':>9} "
        f"{'all p50':>8} {'all p95':>8} {'failed':>6}  load1"
    )
    for system in args.systems:
        result = run_point(
            system,
            args.participants,
            duration=1.0,
            warmup=1.0,
            extra=("--join-probes", str(args.joins)),
            janus_event_loops=args.janus_event_loops,
        )
        probes = result.get("join_probes", [])
        first = [p["first_keyframe_s"] for p in probes if p["first_keyframe_s"] is not None]
        every = [p["all_keyframes_s"] for p in probes if p["all_keyframes_s"] is not None]
        result["join_first_p50_s"] = percentile(first, 50)
        result["join_first_p95_s"] = percentile(first, 95)
        result["join_all_p50_s"] = percentile(every, 50)
        result["join_all_p95_s"] = percentile(every, 95)
        packets = [p["first_video_packet_s"] for p in probes if p.get("first_video_packet_s")]
        signalled = [p["signalled_s"] for p in probes if p.get("signalled_s")]
        result["join_reply_p50_s"] = percentile(signalled, 50)
        result["first_video_packet_p50_s"] = percentile(packets, 50)
        result["first_video_packet_p95_s"] = percentile(packets, 95)
        failed = len(probes) - len(every)
        rows.append(result)
        print(
            f"{system:<10} {args.participants:>3} {len(probes):>5} "
            f"{fmt(result['join_first_p50_s'], '.3f'):>9} {fmt(result['join_first_p95_s'], '.3f'):>9} "
            f"{fmt(result['join_all_p50_s'], '.3f'):>8} {fmt(result['join_all_p95_s'], '.3f'):>8} "
            f"{failed:>6}  {result['load_after'].split()[0]}",
            flush=True,
        )
    for row in rows:
        print(
            f"{row['system']}: join reply p50 {fmt(row['join_reply_p50_s'], '.3f')} s, first "
            f"remote video packet p50 {fmt(row['first_video_packet_p50_s'], '.3f')} s "
            f"p95 {fmt(row['first_video_packet_p95_s'], '.3f')} s"
        )
        reasons = Counter(
            p["error"] or "no error recorded"
            for p in row.get("join_probes", [])
            if p["all_keyframes_s"] is None
        )
        for reason, count in reasons.most_common():
            print(f"{row['system']}: {count} probe(s) failed: {reason}")
        for failure in row["bots_failed"]:
            print(f"{row['system']}: room bot failed: {failure}")
    save(out, "join_time", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
