"""Every way of starting daphne lets the socket's own frame limit answer first.

Daphne (autobahn) drops the TCP connection of a message over its own limits, 1 MiB by
default, without a close frame; the socket closes a frame over ``max_frame_bytes`` with
MESSAGE_TOO_BIG. So daphne's limits must be above the socket's, wherever it is started.
The project's launcher (``python -m rooms.web.serve``) has them as its defaults, and every
way of starting the server goes through it, so the numbers live in one place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from rooms.web.serve import VideoroomCommandLine
from rooms.web.sockets import UserSocket

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = [
    "scripts/run.sh",
    "Dockerfile",
    "docker-compose.yml",
    "tests/support/daphne.py",
    "bench/stack.py",
]
LAUNCHER_MODULE = "rooms.web.serve"


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_each_launcher_starts_the_project_launcher(launcher: str) -> None:
    text = (ROOT / launcher).read_text()
    assert LAUNCHER_MODULE in text, f"{launcher} does not start daphne through {LAUNCHER_MODULE}"
    assert "--websocket-max" not in text, f"{launcher} repeats the limits rooms.web.serve holds"


def test_the_project_launcher_defaults_to_limits_above_the_frame_limit() -> None:
    args = VideoroomCommandLine().parser.parse_args(["videoroom_project.asgi:application"])
    assert args.websocket_max_message_size > UserSocket.max_frame_bytes
    assert args.websocket_max_frame_size > UserSocket.max_frame_bytes


def test_runserver_limits_are_above_the_frame_limit() -> None:
    assert UserSocket.max_frame_bytes < settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE
    assert UserSocket.max_frame_bytes < settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE
