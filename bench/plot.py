"""``python -m bench.plot``: PNG of CPU per forwarded packet and total CPU against room size.

Reads the JSON written by ``python -m bench.cpu_per_packet`` (default
docs/bench/cpu_per_packet.json) and draws one line per system: this project, Janus
VideoRoom and the transcoding baseline. Points where the room fell apart (a bot removed,
or under 90% of packets delivered) are left out: their CPU figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.cli import RESULTS

LABELS = {
    "videoroom": "videoroom (RTP forwarding on aiortc)",
    "janus": "Janus 1.1.2 VideoRoom",
    "transcode": "aiortc MediaRelay (decode + re-encode)",
}
TARGET_US = 20.0  # the project's target, worker CPU per forwarded packet


def usable(point: dict[str, Any]) -> bool:
    """A point where the room actually ran: no bot removed, >= 90% of packets delivered."""
    if point["bots_failed"]:
        return False
    # The re-encoder sends at its own bitrate, so packet counts are not a loss figure there.
    return point["system"] == "transcode" or (point["packets_delivered"] or 0.0) >= 0.9


def main(argv: list[str] | None = None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=RESULTS / "cpu_per_packet.json")
    parser.add_argument("--output", type=Path, default=RESULTS / "cpu_per_packet.png")
    args = parser.parse_args(argv)
    document = json.loads(args.input.read_text())
    points = document["points"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system in LABELS:
        rows = sorted(
            (p for p in points if p["system"] == system and usable(p)),
            key=lambda p: p["participants"],
        )
        if not rows:
            continue
        sizes = [r["participants"] for r in rows]
        left.plot(
            sizes, [r["server_us_per_forwarded_packet"] for r in rows], "o-", label=LABELS[system]
        )
        right.plot(sizes, [r["server_cpu_percent"] for r in rows], "o-", label=LABELS[system])
    left.axhline(TARGET_US, color="grey", linestyle="--", linewidth=1, label="target 20 us")
    left.set_yscale("log")
    left.set_xlabel("participants in the room (all publish VP8 + Opus)")
    left.set_ylabel("server CPU per forwarded packet (us)")
    right.axhline(50, color="grey", linestyle="--", linewidth=1, label="50% of one core")
    right.set_xlabel("participants in the room")
    right.set_ylabel("server CPU (% of one core)")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    machine = document.get("machine", {})
    figure.suptitle(
        f"{machine.get('cpu', '')}, {machine.get('cores', '?')} cores, {machine.get('utc', '')} UTC",
        fontsize=9,
    )
    figure.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=110)
    print(f"plot written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
