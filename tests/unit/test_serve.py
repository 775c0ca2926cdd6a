"""The launcher's send-buffer measure, and the Twisted internals it reads (guard tests)."""

from __future__ import annotations

from typing import Any

from twisted.internet.abstract import FileDescriptor

from rooms.phoenix.outbound import SEND_BUFFER_EXTENSION
from rooms.web.serve import (
    CLOSE_HANDSHAKE_TIMEOUT_SECONDS,
    VideoroomServer,
    protocol_pending_bytes,
    transport_pending_bytes,
)


class _StubReactor:
    """Enough of a reactor for a FileDescriptor that never reaches the kernel."""

    def addWriter(self, _: Any) -> None:
        pass

    def removeWriter(self, _: Any) -> None:
        pass


def unsent_transport() -> FileDescriptor:
    transport = FileDescriptor(reactor=_StubReactor())
    transport.connected = True
    return transport


def test_twisted_keeps_the_write_buffer_where_the_measure_reads_it() -> None:
    transport = unsent_transport()
    assert transport_pending_bytes(transport) == 0
    transport.write(b"x" * 1000)
    transport.writeSequence([b"y" * 500, b"z" * 24])
    assert transport_pending_bytes(transport) == 1524
    # Part of it reached the kernel: what is left is counted.
    transport.writeSomeData = lambda data: 1000  # type: ignore[method-assign]
    transport.doWrite()
    assert transport_pending_bytes(transport) == 524


def test_wrapped_transports_are_measured_at_the_innermost_one() -> None:
    inner = unsent_transport()
    inner.write(b"x" * 10)

    class Wrapper:
        transport = inner

    class Protocol:
        transport = Wrapper()

    assert protocol_pending_bytes(Protocol()) == 10
    assert transport_pending_bytes(object()) is None


async def test_websocket_applications_get_the_send_buffer_extension() -> None:
    server = VideoroomServer.__new__(VideoroomServer)
    seen: dict[str, Any] = {}

    def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        seen.update(scope)

        async def run() -> None:
            return None

        return run()

    server.application = application

    class Protocol:
        closeHandshakeTimeout = 1.0

    protocol = Protocol()
    server.connections = {protocol: {}}
    server.create_application(protocol, {"type": "websocket"})
    pending = seen["extensions"][SEND_BUFFER_EXTENSION]["pending_bytes"]
    assert pending() == 0  # a protocol without a transport: nothing queued
    assert protocol.closeHandshakeTimeout == CLOSE_HANDSHAKE_TIMEOUT_SECONDS
    await server.connections[protocol]["application_instance"]
