"""Every way of starting daphne lets the socket's own frame limit answer first.

Daphne (autobahn) drops the TCP connection of a message over its own limits, 1 MiB by
default, without a close frame; the socket closes a frame over ``max_frame_bytes`` with
MESSAGE_TOO_BIG. So daphne's limits must be above the socket's, wherever it is started.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from rooms.web.sockets import UserSocket

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = [
    "scripts/run.sh",
    "Dockerfile",
    "docker-compose.yml",
    "tests/support/daphne.py",
    "bench/stack.py",
]
# "--websocket-max-message-size 2097152" in a shell line, or the two as list items.
OPTION = re.compile(r'--websocket-max-(message|frame)-size"?[\s,=]+"?(\d+)')


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_each_daphne_command_line_raises_both_limits_above_the_frame_limit(launcher: str) -> None:
    options = dict(OPTION.findall((ROOT / launcher).read_text()))
    assert set(options) == {"message", "frame"}, f"{launcher} does not set daphne's limits"
    for kind, size in options.items():
        assert int(size) > UserSocket.max_frame_bytes, f"{launcher}: {kind} size {size}"


def test_runserver_limits_are_above_the_frame_limit() -> None:
    assert UserSocket.max_frame_bytes < settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE
    assert UserSocket.max_frame_bytes < settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE
