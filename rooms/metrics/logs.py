"""``LOG_FORMAT=json``: one JSON object per log line, with the room, peer and worker ids.

The ids are read from the log call itself, not from a contextvar. The code logs them
by one convention (docs/STYLE 10, "room %s peer %s: ..."), so the argument that
follows ``room ``, ``peer `` or ``worker `` in the format string *is* the id, exactly
as the plain-text line shows it. A contextvar would need a set call wherever a room or
peer is handled, in every module, and asyncio copies context into each task created
meanwhile, so a task aiortc starts while one peer's offer is handled would log that
peer's id for its whole life, including work for other peers. Parsing the format
string keeps the ids right line by line and costs the hot path nothing (the formatter
runs only for lines that are emitted). The worker id is also set once per process by
the room worker (``set_worker_id``), so every line of a worker process carries it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# A %-placeholder (not %%), with the text before it.
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifgeEx]")
_KEYS = (("room worker ", "worker"), ("worker ", "worker"), ("room ", "room"), ("peer ", "peer"))
_TEXT_IDS = re.compile(
    r"\b(?:room worker (?P<worker1>[A-Za-z0-9_-]+)"
    r"|room (?!worker\b)(?P<room>[A-Za-z0-9][A-Za-z0-9_-]*)"
    # In free text only an id-like word (a digit or a capital in it) is a peer id,
    # so "peer connection closed" names no peer "connection".
    r"|peer (?P<peer>(?=[a-z_-]*[A-Z0-9])[A-Za-z0-9_-]+)"
    r"|worker (?P<worker2>[A-Za-z0-9_-]+))"
)
_TEXT_GROUPS = (("room", "room"), ("peer", "peer"), ("worker1", "worker"), ("worker2", "worker"))
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

_worker_id = ""


def set_worker_id(worker_id: str) -> None:
    """This process's room worker id, added to every line that names no other worker."""
    global _worker_id
    _worker_id = worker_id


def ids_of(record: logging.LogRecord) -> dict[str, str]:
    """The room, peer and worker ids a log call names, by the "room %s peer %s" convention."""
    found: dict[str, str] = {}
    template = record.msg if isinstance(record.msg, str) else ""
    args = record.args if isinstance(record.args, tuple) else ()
    if args and "%" in template:
        position = 0
        for index, match in enumerate(_PLACEHOLDER.finditer(template.replace("%%", "  "))):
            before = template[position : match.start()]
            position = match.end()
            if index >= len(args):
                break
            for prefix, key in _KEYS:
                if before.endswith(prefix):
                    found.setdefault(key, str(args[index]))
                    break
    if "room" not in found or "peer" not in found:
        # A label built beforehand ("room r1 peer p1", Endpoint's) arrives as one argument;
        # other arguments (display names, client input) are never searched for ids.
        texts = [_PLACEHOLDER.sub(" ", template.replace("%%", " "))] if args else [template]
        texts += [a for a in args if isinstance(a, str) and a.startswith(("room ", "peer "))]
        for text in texts:
            for match in _TEXT_IDS.finditer(text):
                for group, key in _TEXT_GROUPS:
                    if match.group(group):
                        found.setdefault(key, match.group(group))
    if _worker_id:
        found.setdefault("worker", _worker_id)
    return found


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, room/peer/worker when known, exception text, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(ids_of(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        return json.dumps(entry, ensure_ascii=False)
