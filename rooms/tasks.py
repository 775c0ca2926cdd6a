"""Background tasks whose failure is said once, in one line, when it happens.

A task that raises and is never awaited is reported by asyncio only when the task
is garbage collected ("Task exception was never retrieved", a traceback, at a
moment unrelated to the failure), or never if something still holds it. Owners
that do await their tasks (on stop, with ``gather(..., return_exceptions=True)``)
learn of a failure only then, and say nothing of it. ``spawn`` is
``loop.create_task`` plus a done callback that retrieves the exception as soon as
the task ends and logs one line naming the task, the error and where it was
raised; the traceback goes to debug. Cancellation is the normal end of a
background task and is not logged. Every task the app starts goes through here.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from rooms.logtext import clip

logger = logging.getLogger(__name__)

T = TypeVar("T")


def spawn(coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
    """Start ``coro`` on the running loop as a task named ``name``; a failure is logged once.

    The caller still owns the task: it cancels and awaits it on teardown as before.
    """
    task = asyncio.get_running_loop().create_task(coro, name=name)
    task.add_done_callback(_report_failure)
    return task


def _report_failure(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()  # retrieved: asyncio will not report it again
    if error is None:
        return
    logger.error("task %s died: %s%s", task.get_name(), describe(error), _origin(error))
    logger.debug("task %s traceback", task.get_name(), exc_info=error)


def describe(error: BaseException) -> str:
    """``Type: message`` of an exception, clipped to fit one log line."""
    message = str(error)
    return f"{type(error).__name__}: {clip(message)}" if message else type(error).__name__


def _origin(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
