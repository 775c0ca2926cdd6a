"""``python -m bench.report``: Markdown tables of the latest results in docs/bench/*.json.

Prints what docs/benchmarks.md quotes, so the page can be refreshed after a run without
retyping numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.cli import RESULTS, fit_slope, fmt


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def _rss(point: dict[str, Any]) -> float:
    return max((p["rss_mb"] for p in point["server_processes"].values()), default=0.0)


def cpu_table(document: dict[str, Any]) -> list[str]:
    lines = [
        "| system | N | forwarded pkt/s | server CPU (% core) | us per forwarded pkt | "
        "delivered | latency p50 / p95 (ms) | freezes | RSS (MB) | load1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in document["points"]:
        lat = p["latency_ms"]["all"]
        delivered = p["packets_delivered"]
        note = " (bots removed)" if p["bots_failed"] else ""
        lines.append(
            f"| {p['system']} | {p['participants']} | {p['received_pps']:.0f} | "
            f"{p['server_cpu_percent']:.1f} | {fmt(p['server_us_per_forwarded_packet'])} | "
            f"{fmt(delivered and 100 * delivered, '.2f')}%{note} | "
            f"{fmt(lat['p50'])} / {fmt(lat['p95'])} | {p['received']['freezes']} | "
            f"{_rss(p):.0f} | {p['load_after'].split()[0]} |"
        )
    lines.append("")
    for system in dict.fromkeys(p["system"] for p in document["points"]):
        points = [p for p in document["points"] if p["system"] == system and not p["bots_failed"]]
        slope = fit_slope(
            [p["received_pps"] for p in points], [p["server_cpu_percent"] / 100 for p in points]
        )
        memory = fit_slope([p["participants"] for p in points], [_rss(p) for p in points])
        lines.append(
            f"- {system}: marginal {fmt(slope and slope * 1e6)} us per forwarded packet "
            f"(least squares over the rooms that held); RSS slope {fmt(memory, '.2f')} MB per peer"
        )
    return lines


def join_table(document: dict[str, Any]) -> list[str]:
    lines = [
        "| system | N in room | joins | first keyframe p50 / p95 (s) | all keyframes p50 / p95 (s) "
        "| join reply p50 (s) | load1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in document["points"]:
        lines.append(
            f"| {p['system']} | {p['participants']} | {len(p.get('join_probes', []))} | "
            f"{fmt(p['join_first_p50_s'], '.3f')} / {fmt(p['join_first_p95_s'], '.3f')} | "
            f"{fmt(p['join_all_p50_s'], '.3f')} / {fmt(p['join_all_p95_s'], '.3f')} | "
            f"{fmt(p.get('join_reply_p50_s'), '.3f')} | {p['load_after'].split()[0]} |"
        )
    return lines


def memory_table(document: dict[str, Any]) -> list[str]:
    lines = [
        "| system | N | idle RSS (MB) | loaded RSS (MB) | (loaded - idle) / N |",
        "|---|---|---|---|---|",
    ]
    for p in document["points"]:
        lines.append(
            f"| {p['system']} | {p['participants']} | {p['server_idle_rss_mb']:.1f} | "
            f"{p['rss_loaded_mb']:.1f} | {p['mb_per_peer']:.2f} |"
        )
    return lines


def capacity_lines(document: dict[str, Any]) -> list[str]:
    lines = [f"- largest passing room: {document.get('largest')}"]
    for p in document["points"]:
        lines.append(f"  - {p['system']} N={p['participants']}: {p['verdict']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sections = [
        ("cpu_per_packet.json", "CPU per forwarded packet", cpu_table),
        ("capacity.json", "Capacity", capacity_lines),
        ("join_time.json", "Join time", join_table),
        ("memory.json", "Memory", memory_table),
        ("compare.json", "Comparison run", cpu_table),
    ]
    for name, title, render in sections:
        document = _load(args.dir / name)
        if document is None:
            continue
        machine = document["machine"]
        print(f"### {title}\n\n`{name}`, {machine['utc']} UTC, load at start {machine['load']}\n")
        print("\n".join(render(document)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
