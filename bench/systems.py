"""The three systems a bench command can measure, behind one call: ``run_point``.

- ``videoroom``: this project (daphne + one ``manage.py roomworker``), passthrough SFU.
- ``transcode``: the same processes, the worker decoding and re-encoding per subscriber
  through aiortc's MediaRelay (bench/worker_launcher.py --transcode).
- ``janus``: Debian's Janus 1.1.2 VideoRoom in a network namespace (bench/janus.py).

Each point starts a fresh server, reads its idle memory, runs the load generator in a
child process (inside the namespace for Janus) and returns the load generator's summary
with ``server_idle_rss_mb`` added. The measured server process is the room worker for
this project and the baseline, and janus itself for Janus.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procstat
from bench.stack import PYTHON, REPO, running_stack

SYSTEMS = ("videoroom", "transcode", "janus")
# VIDEOROOM_BENCH_VERBOSE=1 shows each load run's own summary.
VERBOSE = os.environ.get("VIDEOROOM_BENCH_VERBOSE", "0") != "0"
# VIDEOROOM_BENCH_LOG=<file> keeps the servers' output of the last point there.
LOG = os.environ.get("VIDEOROOM_BENCH_LOG")


@dataclass(frozen=True)
class Target:
    """Where bots connect and what to measure."""

    url: str
    pid: int
    protocol: str
    host_address: str
    netns: str | None = None


@contextlib.contextmanager
def running(system: str, *, janus_event_loops: int = 0) -> Iterator[Target]:
    """Start ``system``; yield where to send the bots."""
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (e.g. from `timeout`) becomes SystemExit, so the servers are stopped.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if system == "janus":
        from bench.janus import running_janus

        with running_janus(
            event_loops=janus_event_loops, log_path=Path(LOG) if LOG else None
        ) as janus:
            yield Target(janus.url, janus.pid, "janus", janus.address, janus.netns)
        return
    flags = []
    if system == "transcode":
        flags.append("--transcode")
    elif system != "videoroom":
        raise ValueError(f"unknown system {system!r}; one of {', '.join(SYSTEMS)}")
    command = [PYTHON, "-m", "bench.worker_launcher", *flags]
    with running_stack(worker_command=command, log_path=Path(LOG) if LOG else None) as stack:
        yield Target(stack.url, stack.worker_pid, "membrane", "127.0.0.1")


def loadgen_command(target: Target, *args: str) -> list[str]:
    """The load generator's command line against ``target`` (inside its namespace if any)."""
    command = [PYTHON, "-m", "bench.loadgen", "--protocol", target.protocol, "--url", target.url]
    command += ["--host-address", target.host_address, "--watch-pid", str(target.pid), *args]
    if target.netns:
        command = ["ip", "netns", "exec", target.netns, *command]
    return command


def run_loadgen(target: Target, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run the load generator to completion and return its JSON summary."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        subprocess.run(
            [*loadgen_command(target, *args), "--json", str(path), "--quiet"],
            cwd=REPO,
            env=env,
            timeout=timeout,
            check=False,
            stdout=None if VERBOSE else subprocess.DEVNULL,
        )
        if not path.stat().st_size:
            raise RuntimeError("the load generator wrote no result")
        result: dict[str, Any] = json.loads(path.read_text())
        return result
    finally:
        path.unlink(missing_ok=True)


def run_point(
    system: str,
    participants: int,
    *,
    rooms: int = 1,
    duration: float = 30.0,
    warmup: float = 5.0,
    extra: tuple[str, ...] = (),
    janus_event_loops: int = 0,
) -> dict[str, Any]:
    """One fresh server, one load run; the summary plus idle memory and the system name.

    The per-stream rows of the load generator are left out: every figure is built
    from the summary, and the rows would dominate the saved JSON.
    """
    with running(system, janus_event_loops=janus_event_loops) as target:
        time.sleep(1.0)  # let the server finish starting before its idle reading
        idle = procstat.sample(target.pid)
        result = run_loadgen(
            target,
            "--participants",
            str(participants),
            "--rooms",
            str(rooms),
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
            *extra,
        )
    result.pop("streams", None)
    result["system"] = system
    result["server_idle_rss_mb"] = idle.rss_bytes / 2**20
    result["janus_event_loops"] = janus_event_loops if system == "janus" else None
    return result


def machine() -> dict[str, str]:
    """CPU model, core count, kernel and Python: the context every figure needs."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "load": procstat.loadavg(),
        "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
