"""A private coturn for tests: shared-secret credentials, on a free port of one address.

``running_turn()`` starts ``turnserver`` with the TURN REST API scheme
(``use-auth-secret``), the UDP and TCP listeners on one port, relays allocated on
``relay_ip``, relaying to loopback peers allowed (the room worker's candidates are on
127.0.0.1 in tests), no TLS/DTLS, no CLI, no configuration file and a private log file.
It is stopped on exit.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_tcp_port

START_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class TurnServer:
    host: str
    port: int
    secret: str
    log_path: Path

    @property
    def urls(self) -> list[str]:
        """TURN_URLS for the server: UDP first (aioice uses only the first), then TCP."""
        base = f"turn:{self.host}:{self.port}"
        return [f"{base}?transport=udp", f"{base}?transport=tcp"]

    def log(self, tail_chars: int = 6000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-tail_chars:]


@contextmanager
def running_turn(
    listening_ip: str = "127.0.0.1", relay_ip: str = "127.0.0.1"
) -> Iterator[TurnServer]:
    binary = shutil.which("turnserver")
    if binary is None:
        raise RuntimeError("coturn is not installed; run scripts/test.sh, which installs it")
    workdir = Path(tempfile.mkdtemp(prefix="videoroom-turn-"))
    port = free_tcp_port()
    server = TurnServer(listening_ip, port, secrets.token_hex(16), workdir / "turnserver.log")
    process = subprocess.Popen(
        [
            binary,
            "-n",  # no configuration file: only these options
            f"--listening-ip={listening_ip}",
            f"--listening-port={port}",
            f"--relay-ip={relay_ip}",
            "--use-auth-secret",
            f"--static-auth-secret={server.secret}",
            "--realm=videoroom.test",
            "--allow-loopback-peers",
            "--no-multicast-peers",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--no-rfc5780",
            "--no-software-attribute",
            f"--userdb={workdir / 'turndb'}",
            f"--pidfile={workdir / 'turnserver.pid'}",
            f"--log-file={server.log_path}",
            "--simple-log",
            "--no-stdout-log",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with socket.create_connection((listening_ip, port), timeout=1.0):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"turnserver did not start:\n{server.log()}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
