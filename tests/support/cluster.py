"""A production-shaped deployment for tests: daphne and room worker processes on one Redis.

``running_cluster()`` starts a private redis-server, migrates a SQLite file,
creates a superuser, then starts web (daphne) and room worker processes, each
logging to its own file. Every process it starts is stopped when it exits,
even on failure. Tests kill or stop workers and start replacements through the
Cluster object.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import shortuuid

from tests.support.daphne import daphne_command
from tests.support.ports import free_tcp_port
from tests.support.redis_server import RedisServer, running_redis_server

ROOT = Path(__file__).resolve().parents[2]
# Generous: importing Django, channels and aiortc takes seconds on a loaded 2-core box.
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "cluster-admin-password"  # a throwaway account in a throwaway database
_READY = re.compile(r"room worker (\S+) ready")
# No proxy, whatever the environment says: every request goes to 127.0.0.1.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class ManagedProcess:
    """One child process and the file its stdout and stderr go to."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        if self.running:
            self.popen.send_signal(signum)

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if not self.running:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)


@dataclass
class WebProcess(ManagedProcess):
    port: int = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket/websocket?vsn=2.0.0"


@dataclass
class WorkerProcess(ManagedProcess):
    worker_id: str = ""


@dataclass
class Cluster:
    redis_url: str
    prefix: str
    db_path: Path
    workdir: Path
    env: dict[str, str]
    redis: RedisServer
    webs: list[WebProcess] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def processes(self) -> list[ManagedProcess]:
        return [*self.webs, *self.workers]

    @property
    def live_workers(self) -> list[WorkerProcess]:
        return [worker for worker in self.workers if worker.running]

    def worker(self, worker_id: str) -> WorkerProcess:
        return next(w for w in self.workers if w.worker_id == worker_id)

    def _spawn(self, name: str, args: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C on pytest does not hit it before teardown does.
                start_new_session=True,
            )
        return popen, log_path

    def launch_web(self) -> WebProcess:
        """Start one daphne; ``wait_ready`` waits until it answers /healthz."""
        port = free_tcp_port()
        name = f"web{len(self.webs) + 1}"
        popen, log_path = self._spawn(name, daphne_command(port))
        web = WebProcess(name, popen, log_path, port=port)
        self.webs.append(web)
        return web

    def restart_web(self, web: WebProcess) -> WebProcess:
        """A new daphne in place of a stopped one, on the same port, so pages find it again."""
        name = f"{web.name}-restarted"
        popen, log_path = self._spawn(name, daphne_command(web.port))
        restarted = WebProcess(name, popen, log_path, port=web.port)
        self.webs[self.webs.index(web)] = restarted
        self.wait_ready(restarted)
        return restarted

    def launch_worker(self) -> WorkerProcess:
        """Start one ``manage.py roomworker``; ``wait_ready`` waits for its ready line."""
        name = f"worker{len(self.workers) + 1}"
        popen, log_path = self._spawn(name, [sys.executable, "manage.py", "roomworker"])
        worker = WorkerProcess(name, popen, log_path)
        self.workers.append(worker)
        return worker

    def wait_ready(self, *processes: ManagedProcess) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for process in processes:
            while not _is_ready(process):
                if not process.running or time.monotonic() > deadline:
                    raise RuntimeError(f"{process.name} did not start:\n{process.log()[-4000:]}")
                time.sleep(0.2)

    def start_worker(self) -> WorkerProcess:
        worker = self.launch_worker()
        self.wait_ready(worker)
        return worker

    def stop_redis(self, *, kill: bool = False) -> None:
        """Take the cluster's redis-server down (SIGTERM, or SIGKILL with ``kill``)."""
        self.redis.stop(kill=kill)

    def start_redis(self) -> None:
        """Start redis-server again on the same port, empty (it keeps nothing on disk)."""
        self.redis.start()

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run one manage.py command to completion (migrate, createsuperuser); its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS * 2,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def logs(self, tail_chars: int = 6000) -> str:
        """The end of every process's log, for a failure report."""
        parts = []
        for process in self.processes:
            state = "running" if process.running else f"exited {process.popen.returncode}"
            parts.append(f"===== {process.name} ({state}) {process.log_path}")
            parts.append(process.log()[-tail_chars:])
        return "\n".join(parts)

    def stop_all(self) -> None:
        # Web processes first: their sockets' leaves reach live workers, which then
        # shut down with empty rooms.
        for process in [*self.webs, *self.workers]:
            try:
                process.stop()
            except Exception:
                process.popen.kill()


def _is_ready(process: ManagedProcess) -> bool:
    if isinstance(process, WorkerProcess):
        ready = _READY.search(process.log())
        if ready:
            process.worker_id = ready.group(1)
        return ready is not None
    assert isinstance(process, WebProcess)
    try:
        with _LOOPBACK.open(f"{process.http_url}/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def cluster_env(redis_url: str, prefix: str, db_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIDEOROOM_")}
    env.update(
        {
            "REDIS_URL": redis_url,
            "VIDEOROOM_REDIS_PREFIX": prefix,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "DJANGO_DEBUG": "1",
            "DJANGO_SECRET_KEY": "cluster-test-secret",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "videoroom_project.settings",
            # 20 peers join one room in the tests; the default limit is 12.
            "VIDEOROOM_DEFAULT_MAX_PARTICIPANTS": "50",
            # Sockets in these tests send no heartbeats while they wait.
            "VIDEOROOM_SOCKET_IDLE_TIMEOUT_SECONDS": "300",
            # Only loopback candidates: no STUN lookups, no traffic off the machine.
            "ICE_HOST_ADDRESSES": "127.0.0.1",
            # Clients on loopback: ICE checks to them are allowed whatever DJANGO_DEBUG says.
            "ICE_ALLOWED_REMOTE_NETWORKS": "0.0.0.0/0,::/0",
            "STUN_URLS": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextmanager
def running_cluster(webs: int = 2, workers: int = 2) -> Iterator[Cluster]:
    """Redis, a migrated SQLite file with a superuser, ``webs`` daphnes, ``workers`` workers."""
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="videoroom-cluster-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        redis = stack.enter_context(running_redis_server())
        prefix = "cluster" + shortuuid.uuid()[:8]
        db_path = workdir / "db.sqlite3"
        cluster = Cluster(
            redis.url, prefix, db_path, workdir, cluster_env(redis.url, prefix, db_path), redis
        )
        stack.callback(cluster.stop_all)
        cluster.manage("migrate", "--noinput")
        cluster.manage(
            "createsuperuser",
            "--noinput",
            "--username",
            ADMIN_USERNAME,
            "--email",
            "admin@example.invalid",
            extra_env={"DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        )
        # Started together: each takes seconds to import, and there are two cores.
        started: list[ManagedProcess] = [cluster.launch_worker() for _ in range(workers)]
        started += [cluster.launch_web() for _ in range(webs)]
        cluster.wait_ready(*started)
        yield cluster


def kill_hard(process: ManagedProcess) -> None:
    """kill -9: no cleanup runs, the lease is left to lapse."""
    os.kill(process.pid, signal.SIGKILL)
    process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
