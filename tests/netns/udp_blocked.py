"""A deployment whose clients cannot send UDP: the one shared setup of the TURN-over-TCP tests.

A client namespace that drops every UDP datagram it sends (namespace.py), coturn
listening on the root side of its veth pair and relaying on loopback, and a daphne with
an embedded worker that offers only ``turn:<host>:<port>?transport=tcp``: TCP to coturn
is the clients' only way to the room.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.netns.namespace import ClientNamespace, client_namespace, unavailable_reason
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne
from tests.support.turn_server import TurnServer, running_turn


@dataclass(frozen=True)
class UdpBlockedSite:
    ns: ClientNamespace
    turn: TurnServer
    daphne: DaphneServer

    @property
    def turn_url(self) -> str:
        return f"turn:{self.ns.host_ip}:{self.turn.port}?transport=tcp"

    def assert_udp_blocked(self) -> None:
        """The namespace really cannot send UDP, here to the TURN server's UDP listener."""
        before = self.ns.dropped_udp_packets()
        self.ns.send_udp(self.ns.host_ip, self.turn.port)
        assert self.ns.dropped_udp_packets() == before + 1


@contextmanager
def udp_blocked_site(workdir: Path) -> Iterator[UdpBlockedSite]:
    """The deployment above, torn down on exit; skips the test where namespaces are unavailable."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with (
        client_namespace(block_udp=True) as ns,
        running_turn(listening_ip=ns.host_ip, relay_ip="127.0.0.1") as turn,
    ):
        env = embedded_env(
            workdir / "db.sqlite3",
            DJANGO_ALLOWED_HOSTS=f"127.0.0.1,localhost,{ns.host_ip}",
            # TCP only: aioice uses the first TURN URL, and UDP cannot leave the namespace.
            TURN_URLS=f"turn:{ns.host_ip}:{turn.port}?transport=tcp",
            TURN_SECRET=turn.secret,
            TURN_TTL_SECONDS="600",
            ICE_HOST_ADDRESSES="127.0.0.1",
            STUN_URLS="",
        )
        manage(env, "migrate", "--noinput")
        with running_daphne(env, workdir / "daphne.log", host=ns.host_ip) as daphne:
            yield UdpBlockedSite(ns, turn, daphne)
