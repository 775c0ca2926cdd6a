"""Start this project's processes for a bench run: redis-server, daphne, one room worker.

Everything listens on 127.0.0.1 on free ports; the database is a temporary SQLite file.
The worker gathers ICE candidates on 127.0.0.1 only (ICE_HOST_ADDRESSES), and so do the
bots (``--host-address 127.0.0.1``): media stays on loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_TIMEOUT = 30.0  # seconds for any one process to become ready


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    """A running videoroom: its websocket URL and the pids to measure."""

    url: str
    worker_pid: int
    web_pid: int


def _wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {START_TIMEOUT}s")


def _wait_line(process: subprocess.Popen[bytes], needle: str, what: str) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode(errors="replace")
        if needle in line:
            return
        if not line and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
    raise RuntimeError(f"{what} did not print {needle!r} within {START_TIMEOUT}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_stack(
    worker_command: Sequence[str] | None = None,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[Stack]:
    """redis + daphne + a room worker (``worker_command`` replaces ``manage.py roomworker``).

    The servers' output goes to ``log_path`` (default: a temporary file, deleted).
    """
    workdir = Path(tempfile.mkdtemp(prefix="videoroom-bench-"))
    redis_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "ICE_HOST_ADDRESSES": "127.0.0.1",
        # The bots are on loopback: ICE checks to them are allowed whatever DJANGO_DEBUG says.
        "ICE_ALLOWED_REMOTE_NETWORKS": "0.0.0.0/0,::/0",
        "VIDEOROOM_DEFAULT_MAX_PARTICIPANTS": "64",
        "LOG_LEVEL": os.environ.get("VIDEOROOM_BENCH_LOG_LEVEL", "WARNING"),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    processes: list[subprocess.Popen[bytes]] = []
    log = (log_path or workdir / "servers.log").open("wb")
    try:
        redis = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(redis)
        _wait_port(redis_port, redis, "redis-server")
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        daphne = subprocess.Popen(
            # The project's launcher, as in production: its websocket limits and send buffer.
            [
                PYTHON,
                "-m",
                "rooms.web.serve",
                "-b",
                "127.0.0.1",
                "-p",
                str(web_port),
                "videoroom_project.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
        )
        processes.append(daphne)
        worker = subprocess.Popen(
            list(worker_command or [PYTHON, "manage.py", "roomworker"]),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        processes.append(worker)
        _wait_line(worker, "room worker", "room worker")
        # From here the worker's stdout is not read; it prints nothing more.
        _wait_port(web_port, daphne, "daphne")
        yield Stack(
            url=f"ws://127.0.0.1:{web_port}/socket/websocket?vsn=2.0.0",
            worker_pid=worker.pid,
            web_pid=daphne.pid,
        )
    finally:
        for process in reversed(processes):
            _stop(process)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
