"""Human-readable lines for a load run's summary."""

from __future__ import annotations

from typing import Any

from bench.loadgen.stats import percentile


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def print_summary(result: dict[str, Any]) -> None:
    """Print the headline numbers of ``run_load``'s result."""
    lat = result["latency_ms"]["all"]
    received = result["received"]
    print(
        f"{result['protocol']}: {result['rooms']} room(s) x {result['participants']} "
        f"participants, window {result['window_seconds']:.1f} s, load {result['load_after']}"
    )
    print(
        f"  received {received['packets']} packets ({result['received_pps']:.0f}/s, "
        f"{result['received_mbps']:.1f} Mbit/s), frames delivered "
        f"{_fmt(result['frames_delivered'] and 100 * result['frames_delivered'], '.2f')}%, "
        f"packets delivered "
        f"{_fmt(result['packets_delivered'] and 100 * result['packets_delivered'], '.2f')}%"
    )
    print(
        f"  rtp lost {received['rtp_lost']}, frames missed {received['frames_missed']}, "
        f"freezes {received['freezes']}, latency p50 {_fmt(lat['p50'])} ms "
        f"p95 {_fmt(lat['p95'])} ms max {_fmt(lat['max'])} ms"
    )
    print(
        f"  server CPU {result['server_cpu_percent']:.1f}% of a core, "
        f"{_fmt(result['server_us_per_forwarded_packet'])} us per forwarded packet; "
        f"load generator {result['loadgen_cpu_percent']:.1f}%"
    )
    probes = result.get("join_probes")
    if probes:
        first = [p["first_keyframe_s"] for p in probes if p["first_keyframe_s"] is not None]
        every = [p["all_keyframes_s"] for p in probes if p["all_keyframes_s"] is not None]
        print(
            f"  {len(probes)} joins: first remote keyframe p50 {_fmt(percentile(first, 50), '.3f')} s "
            f"p95 {_fmt(percentile(first, 95), '.3f')} s; all remote keyframes p50 "
            f"{_fmt(percentile(every, 50), '.3f')} s p95 {_fmt(percentile(every, 95), '.3f')} s; "
            f"failed {sum(1 for p in probes if p['all_keyframes_s'] is None)}"
        )
    if result["bots_failed"]:
        print("  FAILED:", "; ".join(result["bots_failed"]))
