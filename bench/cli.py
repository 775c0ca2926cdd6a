"""Shared command-line pieces of the bench commands: common flags, result files, tables."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.systems import SYSTEMS, machine

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "bench"


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def system_list(text: str) -> list[str]:
    systems = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown system(s) {unknown}; known: {SYSTEMS}")
    return systems


def common_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per point")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument(
        "--janus-event-loops",
        type=int,
        default=0,
        help="Janus event_loops (0: Janus's default, a loop thread per handle)",
    )
    parser.add_argument("--out", type=Path, help="write results as JSON here")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long run with small rooms (tests)"
    )
    return parser


def save(path: Path | None, kind: str, rows: Sequence[dict[str, Any]], **extra: Any) -> None:
    """Write ``rows`` with the machine description; no-op without a path."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"figure": kind, "machine": machine(), **extra, "points": list(rows)}
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"results written to {path}")


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def point_row(result: dict[str, Any]) -> str:
    """One table line for a load run."""
    lat = result["latency_ms"]["all"]
    delivered = result["packets_delivered"]
    rss = max((p["rss_mb"] for p in result["server_processes"].values()), default=0.0)
    return (
        f"{result['system']:<10} {result['participants']:>3} {result['received_pps']:>8.0f} "
        f"{result['server_cpu_percent']:>7.1f} {fmt(result['server_us_per_forwarded_packet']):>8} "
        f"{fmt(delivered and 100 * delivered, '.2f'):>8} {fmt(lat['p95']):>8} "
        f"{result['received']['freezes']:>7} {rss:>7.1f}  {result['load_after'].split()[0]}"
    )


TABLE_HEADER = (
    f"{'system':<10} {'N':>3} {'fwd pps':>8} {'CPU %':>7} {'us/pkt':>8} "
    f"{'deliv %':>8} {'p95 ms':>8} {'freezes':>7} {'RSS MB':>7}  load1"
)


def fit_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys against xs, or None with fewer than two distinct xs."""
    if len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
