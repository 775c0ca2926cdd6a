"""A real daphne serving the project, for tests that need a network socket.

``embedded_env`` builds the environment of the embedded default (in-memory layer,
room worker inside daphne, SQLite file); ``manage`` runs manage.py commands in it
(migrate, shell); ``running_daphne`` starts daphne on a free port, waits until it
accepts connections and always stops it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_tcp_port

ROOT = Path(__file__).resolve().parents[2]
# Importing Django, channels and aiortc takes seconds on a loaded 2-core machine.
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0


def embedded_env(database_path: Path, **overrides: str) -> dict[str, str]:
    """Environment for a server in the embedded default: no REDIS_URL, a SQLite file."""
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY="test-only-secret-key",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{database_path}",
        REDIS_URL="",
        # Browsers and bots on this host, loopback included: ICE checks to them are allowed.
        ICE_ALLOWED_REMOTE_NETWORKS="0.0.0.0/0,::/0",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run one manage.py command to completion; its stdout, or RuntimeError with its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS * 2,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class DaphneServer:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"

    @property
    def socket_url(self) -> str:
        """The URL to give ``new Socket(...)``: the client appends /websocket and vsn."""
        return f"ws://{self.host}:{self.port}/socket"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self, tail_chars: int = 8000) -> str:
        return self.log_path.read_text(errors="replace")[-tail_chars:]


def daphne_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line of a daphne serving the project on ``host``:``port``."""
    # The project's launcher: daphne with its websocket limits and send-buffer measure.
    return [
        sys.executable,
        "-m",
        "rooms.web.serve",
        "-b",
        host,
        "-p",
        str(port),
        "videoroom_project.asgi:application",
    ]


@contextmanager
def running_daphne(
    env: dict[str, str], log_path: Path, host: str = "127.0.0.1"
) -> Iterator[DaphneServer]:
    """Start daphne with ``env`` on ``host``, yield once it accepts connections, then stop it."""
    port = free_tcp_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            daphne_command(port, host),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DaphneServer(port, process, log_path, host)
    try:
        _wait_until_accepting(server)
        yield server
    finally:
        _stop(process)


def _wait_until_accepting(server: DaphneServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with socket.create_connection((server.host, server.port), timeout=1.0):
                return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{server.log()}") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
