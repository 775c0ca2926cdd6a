"""What stands between a frame the server built and the client: encoding and the send buffer.

A frame that is not strict JSON is a server bug: it is logged once per socket and
dropped, never sent (a browser's ``JSON.parse`` would throw on it). The send buffer
is measured by the server (``rooms.web.serve``), which hands the consumer a
``pending_bytes()`` callable through an ASGI scope extension; under any other server
there is none and the bound is not enforced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from rooms.logtext import clip
from rooms.phoenix.frames import Frame, UnencodableFrame

try:
    # What daphne (autobahn) raises on a send to a connection that is closing.
    from autobahn.exception import Disconnected
except ImportError:  # pragma: no cover - another ASGI server

    class Disconnected(Exception):  # type: ignore[no-redef]
        """Never raised: the server in use is not daphne."""


logger = logging.getLogger(__name__)

# ``scope["extensions"][SEND_BUFFER_EXTENSION]["pending_bytes"]()``: bytes the server
# has queued for the client and not yet handed to the kernel.
SEND_BUFFER_EXTENSION = "videoroom.send_buffer"
# A send to a connection whose close has not reached the consumer yet raises one of
# these: autobahn's under daphne, OSError under servers following ASGI 2.4.
CONNECTION_GONE: tuple[type[Exception], ...] = (Disconnected, OSError)


class Outbound:
    """One socket's outbound side: strict encoding, and the unread bytes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pending_bytes: Callable[[], int | None] | None = None
        self._unencodable_logged = False

    def attach(self, scope: Mapping[str, Any]) -> None:
        """Find the server's send-buffer measure in the connection's scope, if any."""
        extension = (scope.get("extensions") or {}).get(SEND_BUFFER_EXTENSION)
        if isinstance(extension, dict) and callable(extension.get("pending_bytes")):
            self._pending_bytes = extension["pending_bytes"]

    def encode(self, frame: Frame) -> str | None:
        """The frame's text, or None (logged) for one no browser could parse."""
        try:
            return frame.encode()
        except UnencodableFrame as error:
            level = logging.DEBUG if self._unencodable_logged else logging.ERROR
            self._unencodable_logged = True
            logger.log(
                level,
                "socket %s topic %s: not sending %s: %s",
                self.name,
                clip(frame.topic),
                clip(frame.event),
                error,
            )
            return None

    def pending_bytes(self) -> int | None:
        """Bytes queued for the client and unread; None when the server does not say."""
        return None if self._pending_bytes is None else self._pending_bytes()
