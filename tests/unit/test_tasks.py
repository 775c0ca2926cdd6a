"""Background tasks: a failure is logged once, in one line, and never left unretrieved."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from rooms.sfu.forwarding import Publication
from rooms.tasks import spawn


async def _fail() -> None:
    raise ValueError("boom\nforged line")


def _never_retrieved(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]


async def _forget(task: asyncio.Task[None]) -> None:
    """Let the task end, drop it, and collect it, as a forgotten task is."""
    await asyncio.wait([task])
    del task
    gc.collect()
    await asyncio.sleep(0)


async def test_a_task_that_raises_is_logged_once_in_one_line_and_never_as_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await _forget(spawn(_fail(), name="room-host-alpha"))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert line.startswith("task room-host-alpha died: ValueError: boom\\nforged line (at ")
    assert "test_tasks.py:" in line and "\n" not in line
    assert errors[0].exc_info is None  # the traceback is a debug record of its own
    assert _never_retrieved(caplog) == []


async def test_a_cancelled_task_is_its_normal_end_and_says_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = spawn(asyncio.sleep(10), name="idle")
    await asyncio.sleep(0)
    task.cancel()
    with caplog.at_level(logging.DEBUG, logger="rooms.tasks"):
        await asyncio.gather(task, return_exceptions=True)
    assert caplog.records == []


async def test_an_owner_that_awaits_its_failed_task_on_stop_does_not_log_it_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        task = spawn(_fail(), name="worker-metrics")
        await asyncio.wait([task])
        (result,) = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(result, ValueError)
    assert len(caplog.records) == 1


async def test_a_keyframe_request_whose_send_fails_is_one_line_not_an_unretrieved_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The PLI task forgets itself when it ends: nothing else would ever retrieve its error."""

    async def send_pli() -> None:
        raise ConnectionError("transport closed")

    publication = Publication("p:1", "video", send_pli, label="room alpha peer p track p:1")
    with caplog.at_level(logging.ERROR):
        publication.request_keyframe()
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
        await asyncio.sleep(0)
        await publication.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert lines[0].startswith("task pli-room alpha peer p track p:1 died: ConnectionError")
    assert _never_retrieved(caplog) == []
