"""The daphne the hostile peers attack: the embedded default, one process, media on loopback.

``hostile_daphne`` migrates a fresh SQLite file, creates the suite's superuser and runs
``tests.support.daphne.running_daphne`` with the environment below; ``limits`` reads the
bounds from that same environment, as the server does (``VIDEOROOM_LIMIT_*``), so every
attack uses the largest the server's bounds allow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from rooms.limits import Limits
from tests.support.cluster import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne
from videoroom_project.config import Env, read_limits

# Shorter than the defaults so that a test sees the bound act within seconds:
# squatters go after 4 s instead of 10, and a socket that does not read is cut at
# 512 KiB unread instead of 4 MiB (a metadata flood at the allowed rate fills 4 MiB
# per reader only after ~30 s).
TEST_LIMITS = {
    "VIDEOROOM_LIMIT_CONNECT_TIMEOUT_SECONDS": "4",
    "VIDEOROOM_LIMIT_SOCKET_SEND_BUFFER_BYTES": str(512 * 1024),
}


def hostile_env(database_path: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The embedded default, ICE on 127.0.0.1 only, no STUN, the given limit overrides."""
    env = embedded_env(
        database_path,
        ICE_HOST_ADDRESSES="127.0.0.1",
        STUN_URLS="",
        TURN_URLS="",
        **overrides,
    )
    # Limits come from this environment only, never from the developer's shell.
    for name in [key for key in env if key.startswith("VIDEOROOM_LIMIT_")]:
        if name not in overrides:
            del env[name]
    return env


def limits_of(env: dict[str, str]) -> Limits:
    return read_limits(Env(env))


@contextmanager
def hostile_daphne(
    workdir: Path, overrides: dict[str, str] | None = None
) -> Iterator[tuple[DaphneServer, Limits]]:
    """A migrated database with the superuser, and daphne serving it; always stopped."""
    env = hostile_env(workdir / "db.sqlite3", dict(TEST_LIMITS if overrides is None else overrides))
    manage(env, "migrate", "--noinput")
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN_USERNAME,
        "--email",
        "admin@example.invalid",
    )
    with running_daphne(env, workdir / "daphne.log") as server:
        yield server, limits_of(env)


def rss_bytes(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, for the record next to each figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
