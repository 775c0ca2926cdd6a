"""``python -m bench.worker_death``: what the death of a room's owner worker costs (issue 16).

Each run is one pass of the tests that measure it on a fresh cluster (a private
redis-server, daphne processes and two room workers):

- detect: kill -9 or SIGTERM of the owner worker to the last ``phx_error`` on its
  channels, two Phoenix sockets per room (tests/multiprocess/test_worker_death.py);
- media back: kill -9 or SIGTERM to video from the other participant decoding on a new
  peer connection, for each of two Chromium participants (tests/browser/test_errors.py).

The tests print their figures; this collects them over ``--runs`` runs, with the time
and the load average at each, into docs/bench/worker_death.json.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cli import RESULTS, save
from bench.procstat import loadavg

ROOT = Path(__file__).resolve().parent.parent
# Not anchored: pytest's progress dots share the line.
DETECT = re.compile(r"(kill -9|SIGTERM): last phx_error ([\d.]+) s after")
MEDIA = re.compile(r"(kill -9|SIGTERM) of the owner worker: media back for (.+)$", re.MULTILINE)
SECONDS = re.compile(r"(\w+) ([\d.]+) s")
SUITES = {
    "detect": ["tests/multiprocess/test_worker_death.py"],
    "media": ["-m", "browser", "tests/browser/test_errors.py", "-k", "dead_room_worker"],
}


def run_once(suite: str) -> list[dict[str, Any]]:
    """One pytest pass of ``suite``; a row per figure it printed."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load = loadavg()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *SUITES[suite]],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    rows: list[dict[str, Any]] = []
    if suite == "detect":
        for death, seconds in DETECT.findall(done.stdout):
            rows.append({"figure": "detect", "death": death, "seconds": [float(seconds)]})
    else:
        for death, figures in MEDIA.findall(done.stdout):
            values = [float(value) for _, value in SECONDS.findall(figures)]
            rows.append({"figure": "media back", "death": death, "seconds": values})
    for row in rows:
        row.update(started=started, load=load, passed=done.returncode == 0)
    if done.returncode != 0:
        print(done.stdout[-3000:], file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--suites", default="detect,media", help="detect, media or both")
    parser.add_argument("--out", type=Path, default=RESULTS / "worker_death.json")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        for suite in args.suites.split(","):
            for row in run_once(suite):
                rows.append({"run": run, **row})
                figures = " ".join(f"{s:.2f}" for s in row["seconds"])
                print(
                    f"run {run} {row['started']} {row['figure']:<10} {row['death']:<8} "
                    f"{figures:<12} load {row['load'].split()[0]}",
                    flush=True,
                )
            time.sleep(5)  # let the previous cluster's processes go before the next
    save(args.out, "worker_death", rows)
    failed = [row for row in rows if not row["passed"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
