"""LOG_FORMAT=json: one JSON object per line, with the ids the log call names."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from rooms.metrics import logs
from rooms.metrics.logs import JsonFormatter, ids_of
from tests.metrics.support import ROOT


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("rooms.test", logging.INFO, __file__, 1, msg, args, None)


@pytest.fixture(autouse=True)
def no_process_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_worker_id", "")


def test_ids_come_from_the_arguments_after_room_peer_and_worker() -> None:
    assert ids_of(record("room %s peer %s: joined as %r", "standup", "Pe3r", "Ann")) == {
        "room": "standup",
        "peer": "Pe3r",
    }
    assert ids_of(record("room %s created on worker %s", "standup", "w1")) == {
        "room": "standup",
        "worker": "w1",
    }
    assert ids_of(record("room worker %s started on %s", "w2", "chan")) == {"worker": "w2"}
    # "%%" is not a placeholder; a display name that says "room x" is not a room.
    assert ids_of(record("100%% sure: %s", "Ann, in room 12 as peer A1")) == {}


def test_a_label_built_beforehand_is_read_from_the_message() -> None:
    line = record("%s: connection %s", "room standup peer Pe3rId9", "connected")
    assert ids_of(line) == {"room": "standup", "peer": "Pe3rId9"}
    assert ids_of(record("room %s: peer connection closed", "standup")) == {"room": "standup"}


def test_the_worker_id_of_the_process_is_added_to_lines_that_name_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "_worker_id", "w9")
    assert ids_of(record("room %s: closed", "standup"))["worker"] == "w9"
    assert ids_of(record("room %s created on worker %s", "a", "w1"))["worker"] == "w1"


def test_json_formatter_writes_one_object_per_line_with_exception_and_extras() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        line = record("room %s peer %s: failed", "standup", "Pe3r")
        line.exc_info = sys.exc_info()
    line.status_code = 503
    text = JsonFormatter().format(line)
    assert "\n" not in text
    entry = json.loads(text)
    assert entry["level"] == "INFO" and entry["logger"] == "rooms.test"
    assert entry["message"] == "room standup peer Pe3r: failed"
    assert entry["room"] == "standup" and entry["peer"] == "Pe3r"
    assert "ValueError: bad" in entry["exception"]
    assert entry["status_code"] == 503
    assert entry["time"].endswith("+00:00")


def test_log_format_json_configures_the_root_handler() -> None:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('rooms.x').warning('room %s peer %s: hello', 'r1', 'P1')"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "videoroom_project.settings",
        "LOG_FORMAT": "json",
        "DJANGO_SECRET_KEY": "test-only-secret-key",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert (entry["message"], entry["room"], entry["peer"]) == (
        "room r1 peer P1: hello",
        "r1",
        "P1",
    )
