"""A peer connection's aioice ``Connection``: its gathering step and remote credentials.

aiortc creates one ``aioice.Connection`` per ICE transport, on a private attribute of its
``RTCIceGatherer``, and gathers by calling the connection's ``get_component_candidates``
once per component. Replacing that method on one connection changes what it gathers;
sockets bound by a replacement are registered with ``add_host_protocols`` so that aioice
checks, receives and closes through them as through its own. ``guard_checks`` keeps a
connection from sending checks to addresses the SFU's policy refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from aioice import Candidate, Connection
from aioice.ice import CandidatePair
from aiortc import RTCPeerConnection, RTCRtpTransceiver

from rooms.logtext import clip

logger = logging.getLogger(__name__)


class ComponentGathering(Protocol):
    """A replacement for ``Connection.get_component_candidates`` (aioice calls it by keyword)."""

    def __call__(
        self, *, component: int, addresses: list[str], timeout: int = ...
    ) -> Awaitable[list[Candidate]]: ...


def ice_connection(transceiver: RTCRtpTransceiver) -> Connection:
    """The aioice connection carrying ``transceiver``'s media.

    Exists from the ``setRemoteDescription`` (or ``setLocalDescription``) that gave the
    transceiver its transport; under max-bundle every transceiver shares one.
    """
    connection: Connection = transceiver.receiver.transport.transport.iceGatherer._connection
    return connection


def ice_connections(pc: RTCPeerConnection) -> list[Connection]:
    """Each distinct aioice connection of ``pc``'s transceivers, in transceiver order."""
    found: dict[int, Connection] = {}
    for transceiver in pc.getTransceivers():
        connection = ice_connection(transceiver)
        found.setdefault(id(connection), connection)
    return list(found.values())


def replace_gathering(connection: Connection, gather: ComponentGathering) -> None:
    """Have ``connection`` gather each component's local candidates with ``gather``.

    Call before gathering starts (before ``setLocalDescription``). ``gather`` returns the
    component's candidates and registers the sockets it bound with ``add_host_protocols``;
    ``stock_gathering`` is aioice's own step, for the parts it keeps.
    """
    attributes: Any = connection
    attributes.get_component_candidates = gather


def gathering_replaced(connection: Connection) -> bool:
    """Whether ``replace_gathering`` was applied to ``connection``."""
    return "get_component_candidates" in vars(connection)


async def stock_gathering(
    connection: Connection, *, component: int, addresses: list[str], timeout: int = 5
) -> list[Candidate]:
    """aioice's own gathering step for one component, even where it was replaced.

    Binds a host socket on each of ``addresses`` (none: only the STUN/TURN queries),
    queries the connection's STUN and TURN servers, waits at most ``timeout`` seconds.
    """
    candidates: list[Candidate] = await Connection.get_component_candidates(
        connection, component=component, addresses=addresses, timeout=timeout
    )
    return candidates


def add_host_protocols(connection: Connection, protocols: Iterable[Any]) -> None:
    """Register host sockets a replacement bound (``aioice.ice.StunProtocol``s for
    ``connection``): aioice pairs them with remote candidates, checks and sends through
    them, and closes them with the connection."""
    connection._protocols += list(protocols)


def remote_ice_ufrag(connection: Connection) -> str | None:
    """The remote username fragment ``connection`` checks with; None before ICE starts."""
    return connection.remote_username


def set_remote_ice_credentials(connection: Connection, ufrag: str, pwd: str) -> None:
    """Check with the remote side's new ufrag/pwd from now on (its ICE restart).

    aioice reads both for every check: the USERNAME it signs its own checks with
    (``<remote ufrag>:<local ufrag>``) and their integrity key, the remote part of the
    USERNAME it accepts in incoming checks, and its consent requests. Existing pairs and
    the selected pair stay.
    """
    connection.remote_username = ufrag
    connection.remote_password = pwd


def guard_checks(connection: Connection, allowed: Callable[[str], bool], label: str) -> None:
    """Have ``connection`` fail, without sending anything, every check of a pair whose
    remote address ``allowed`` refuses; once per connection.

    Every connectivity check goes through ``Connection.check_start``, also those of the
    peer-reflexive pairs aioice learns from incoming requests (RFC 8445 7.3.1.4).
    """
    if "check_start" in vars(connection):
        return
    check_start = connection.check_start

    async def guarded(pair: CandidatePair) -> None:
        if allowed(pair.remote_addr[0]):
            await check_start(pair)
            return
        logger.info("%s: no ICE check to %s: not allowed", label, clip(pair.remote_addr[0]))
        connection.check_state(pair, CandidatePair.State.FAILED)
        connection.check_complete(pair)

    connection.check_start = guarded  # type: ignore[method-assign]
