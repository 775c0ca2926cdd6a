"""``python -m rooms.web.serve``: daphne as the project runs it.

The same command line as ``daphne`` (every option works), with two differences:

- Its websocket limits default to ``DAPHNE_WEBSOCKET_MAX_BYTES`` (2 MiB), above the
  socket's own 1 MiB frame limit, so an oversized frame is answered with close code
  4009 instead of a dropped connection (docs/protocol.md). Every launcher uses this
  module, so the numbers live here only.
- It tells each websocket consumer how many bytes are queued for its client and not
  yet written: ``scope["extensions"]["videoroom.send_buffer"]["pending_bytes"]()``.
  Twisted queues whatever the application sends in the transport without bound
  while the kernel's socket buffer is full, so a client that stops reading would
  make the process grow with every push; PhoenixSocket closes such a socket with
  4013 once ``Limits.socket_send_buffer_bytes`` is queued.

The count reads the Twisted transport's write buffer (``FileDescriptor.dataBuffer``,
``offset`` and ``_tempDataLen``), the one place Twisted keeps it; a guard test
(tests/unit/test_serve.py) fails if a Twisted upgrade moves them.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet.abstract import FileDescriptor

from rooms.phoenix.outbound import SEND_BUFFER_EXTENSION
from rooms.phoenix.socket import PhoenixSocket

# Daphne's --websocket-max-message-size and --websocket-max-frame-size: twice the
# socket's frame limit. Between the two the socket answers 4009; only beyond this
# does daphne cut the connection itself.
DAPHNE_WEBSOCKET_MAX_BYTES = 2 * PhoenixSocket.max_frame_bytes
# Autobahn drops a connection whose client has not answered the server's close frame
# within 1 s. A client closed for not reading finds the close frame (4013) behind up
# to the send-buffer limit of data; 5 s lets one that resumes reading learn why.
CLOSE_HANDSHAKE_TIMEOUT_SECONDS = 5.0
# Transports wrap one another (TLS over TCP); the write buffer is in the innermost.
_MAX_WRAPPERS = 4


def transport_pending_bytes(transport: Any) -> int | None:
    """Bytes written to ``transport`` and not yet handed to the kernel; None if unknown."""
    for _ in range(_MAX_WRAPPERS):
        if isinstance(transport, FileDescriptor):
            unsent = len(transport.dataBuffer) - transport.offset
            return unsent + transport._tempDataLen
        transport = getattr(transport, "transport", None)
        if transport is None:
            return None
    return None


def protocol_pending_bytes(protocol: Any) -> int | None:
    """The pending bytes of a daphne protocol's connection (0 once it is gone)."""
    transport = getattr(protocol, "transport", None)
    return 0 if transport is None else transport_pending_bytes(transport)


class VideoroomServer(Server):
    """Daphne's Server, handing websocket applications the send-buffer extension."""

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket":
            # An autobahn protocol option, read when the server starts closing.
            protocol.closeHandshakeTimeout = CLOSE_HANDSHAKE_TIMEOUT_SECONDS
            extensions = scope.setdefault("extensions", {})
            extensions[SEND_BUFFER_EXTENSION] = {
                "pending_bytes": partial(protocol_pending_bytes, protocol)
            }
        return super().create_application(protocol, scope)


class VideoroomCommandLine(CommandLineInterface):
    """Daphne's command line with VideoroomServer and the project's websocket limits."""

    server_class = VideoroomServer

    def __init__(self) -> None:
        super().__init__()
        self.parser.set_defaults(
            websocket_max_message_size=DAPHNE_WEBSOCKET_MAX_BYTES,
            websocket_max_frame_size=DAPHNE_WEBSOCKET_MAX_BYTES,
        )


def main(argv: list[str] | None = None) -> None:
    VideoroomCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
