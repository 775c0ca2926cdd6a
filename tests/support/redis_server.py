"""A private redis-server for the test session, on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.ports import free_tcp_port

START_TIMEOUT_SECONDS = 10.0


class RedisServer:
    """One redis-server process on a fixed port, which tests may stop and start again.

    It keeps nothing on disk, so a restarted server is empty: what a crashed Redis
    without persistence looks like to its clients.
    """

    def __init__(self, port: int, workdir: str) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed; run scripts/test.sh, which installs it"
            )
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._workdir,
                "--logfile",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self._process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL) the server and wait for it to exit."""
        if self._process is None:
            return
        if self._process.poll() is None:
            if kill:
                self._process.kill()
            else:
                self._process.terminate()
        self._process.wait(timeout=10)
        self._process = None


@contextmanager
def running_redis_server() -> Iterator[RedisServer]:
    """Start redis-server, yield it, stop it whatever state the test left it in."""
    workdir = tempfile.mkdtemp(prefix="videoroom-redis-")
    server = RedisServer(free_tcp_port(), workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def running_redis() -> Iterator[str]:
    """Start redis-server, yield its URL, stop it. Keeps nothing on disk."""
    with running_redis_server() as server:
        yield server.url


@contextmanager
def running_sentinel(master: RedisServer, master_name: str) -> Iterator[tuple[str, int]]:
    """One Redis Sentinel (redis-server in sentinel mode) monitoring ``master``; its address."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; run scripts/test.sh, which installs it")
    port = free_tcp_port()
    workdir = tempfile.mkdtemp(prefix="videoroom-sentinel-")
    config = f"{workdir}/sentinel.conf"  # a sentinel rewrites its config file: its own copy
    with open(config, "w") as file:
        file.write(
            f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
            f"sentinel monitor {master_name} 127.0.0.1 {master.port} 1\n"
        )
    process = subprocess.Popen(
        [binary, config, "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name):
                    break
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis sentinel did not start")
            time.sleep(0.05)
        client.close()
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
