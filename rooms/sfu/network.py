"""The worker's ICE networking from MediaConfig: ICE servers, host addresses, UDP port range.

aioice 0.13 binds one socket per host address on an OS-chosen port and gathers every
interface address except 127.0.0.1 and ::1 (reference 1.3). Deployments behind a
firewall need a fixed UDP range and sometimes a chosen interface, so, when either is
configured, ``configure_gathering`` replaces the gathering step of one connection with
``_gather_component``: host sockets bound inside ``port_range`` on ``host_addresses``
(which may include loopback), then aioice's own STUN and TURN steps.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import random
import socket
from typing import Any

from aioice import Candidate, Connection
from aioice import ice as aioice_ice
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.turn import UDP_SOCKET_BUFFER_SIZE
from aiortc import RTCIceServer, RTCPeerConnection

from rooms.ice import ice_servers
from rooms.sfu import aiortc_hooks
from rooms.sfu.addresses import policy_for
from rooms.sfu.config import MediaConfig

logger = logging.getLogger(__name__)

# aioice's own bound on STUN/TURN candidate queries (get_component_candidates default).
SERVER_QUERY_TIMEOUT = 5.0  # seconds


def worker_ice_servers(config: MediaConfig, user: str) -> list[RTCIceServer]:
    """The configured STUN/TURN servers for the worker's side; [] means host candidates only.

    Never None: aiortc would then fall back to a public Google STUN server.
    """
    return [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in ice_servers(user, config)
    ]


class PortRangeExhausted(OSError):
    """Every port of ICE_PORT_RANGE is taken on one address."""


async def bind_in_range(
    connection: Connection, address: str, port_range: tuple[int, int] | None
) -> tuple[asyncio.DatagramTransport, Any]:
    """Bind an aioice StunProtocol on ``address``, on a free port of ``port_range``."""
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return aioice_ice.StunProtocol(connection)

    if port_range is None:
        return await loop.create_datagram_endpoint(factory, local_addr=(address, 0))
    low, high = port_range
    ports = list(range(low, high + 1))
    # Start at a random port so concurrent connections do not all probe from `low`.
    start = random.randrange(len(ports))
    for port in ports[start:] + ports[:start]:
        try:
            return await loop.create_datagram_endpoint(factory, local_addr=(address, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise PortRangeExhausted(errno.EADDRINUSE, f"no free UDP port in {low}-{high} on {address}")


async def _gather_component(
    connection: Connection,
    config: MediaConfig,
    label: str,
    component: int,
    addresses: list[str],
    timeout: float = SERVER_QUERY_TIMEOUT,
) -> list[Candidate]:
    """Replacement for ``Connection.get_component_candidates`` on one connection."""
    candidates: list[Candidate] = []
    host_protocols: list[Any] = []
    for address in config.host_addresses or tuple(addresses):
        try:
            transport, protocol = await bind_in_range(connection, address, config.port_range)
        except OSError as exc:
            logger.warning("%s: cannot bind an ICE socket on %s: %s", label, address, exc)
            continue
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Same receive buffer as aioice's own sockets: video bursts overflow the default.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_SOCKET_BUFFER_SIZE)
        host, port = transport.get_extra_info("sockname")[:2]
        protocol.local_candidate = Candidate(
            foundation=candidate_foundation("host", "udp", host),
            component=component,
            transport="udp",
            priority=candidate_priority(component, "host"),
            host=host,
            port=port,
            type="host",
        )
        candidates.append(protocol.local_candidate)
        host_protocols.append(protocol)
        logger.debug("%s: ICE host candidate %s:%s", label, host, port)
    aiortc_hooks.add_host_protocols(connection, host_protocols)

    if connection.stun_server:
        queries = [
            aioice_ice.server_reflexive_candidate(protocol, connection.stun_server)
            for protocol in host_protocols
            if ":" not in protocol.local_candidate.host  # aioice queries STUN over IPv4 only
        ]
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*queries, return_exceptions=True), timeout
            )
        except TimeoutError:
            results = []
            logger.warning("%s: STUN server did not answer within %ss", label, timeout)
        candidates += [r[0] for r in results if isinstance(r, tuple)]

    if connection.turn_server:
        # aioice's own step with no host address left does only the TURN allocation.
        candidates += await aiortc_hooks.stock_gathering(
            connection, component=component, addresses=[], timeout=int(timeout)
        )
    return candidates


def configure_gathering(pc: RTCPeerConnection, config: MediaConfig, label: str) -> None:
    """Apply ICE_PORT_RANGE / ICE_HOST_ADDRESSES to the connections of ``pc`` not yet gathered.

    Call between setRemoteDescription (which creates the ICE transports) and
    setLocalDescription (which gathers).
    """
    if config.port_range is None and not config.host_addresses:
        return
    for transceiver in pc.getTransceivers():
        connection = aiortc_hooks.ice_connection(transceiver)
        if connection.local_candidates or aiortc_hooks.gathering_replaced(connection):
            continue
        aiortc_hooks.replace_gathering(
            connection, functools.partial(_gather_component, connection, config, label)
        )


def guard_remote_addresses(pc: RTCPeerConnection, config: MediaConfig, label: str) -> None:
    """Make every ICE connection of ``pc`` refuse to check a pair outside the policy.

    The Room drops candidates with such addresses already; this is the last word, for
    the pairs no candidate announced: a STUN request arriving from an address creates a
    peer-reflexive pair that aioice checks at once (RFC 8445 7.3.1.4). Every check goes
    through ``Connection.check_start``, so a refused pair fails without a packet sent.
    """
    policy = policy_for(config)
    for connection in aiortc_hooks.ice_connections(pc):
        aiortc_hooks.guard_checks(connection, policy.allows, label)
