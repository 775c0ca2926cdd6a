"""A client whose network blocks UDP still gets media, through TURN over TCP.

The client (an aiortc Membrane participant, bench.loadgen.MembraneBot) runs in a network
namespace that reaches the root namespace only through a veth pair, and whose iptables
drops every UDP datagram it sends: coturn's TCP port is its only way out. A second
participant in the root namespace has no such limit. Both must receive each other's video
and audio; the namespaced one over a relay candidate allocated by TURN over TCP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shortuuid

from tests.netns.namespace import ClientNamespace, client_namespace, unavailable_reason
from tests.support.daphne import embedded_env, manage, running_daphne
from tests.support.turn_server import TurnServer, running_turn

pytestmark = [pytest.mark.multiprocess, pytest.mark.media]

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 20.0


@dataclass(frozen=True)
class Setup:
    ns: ClientNamespace
    turn: TurnServer
    socket_url: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with (
        client_namespace(block_udp=True) as ns,
        running_turn(listening_ip=ns.host_ip, relay_ip="127.0.0.1") as turn,
    ):
        workdir = tmp_path_factory.mktemp("turn-tcp")
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
            yield Setup(ns, turn, f"ws://{ns.host_ip}:{daphne.port}/socket/websocket?vsn=2.0.0")


def bot(command: list[str], setup: Setup, room: str, name: str) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "tests.netns.bot_main",
        setup.socket_url,
        room,
        name,
        str(SECONDS),
    ]
    return subprocess.Popen(
        command + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=SECONDS + 90)
    assert process.returncode == 0, err[-3000:]
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


def received(report: dict[str, Any], kind: str, field: str) -> int:
    return sum(s[field] for s in report.get("streams", {}).values() if s["kind"] == kind)


def test_a_client_without_udp_gets_media_through_turn_over_tcp(setup: Setup) -> None:
    room = "tcp-" + shortuuid.uuid()[:8]
    inside = bot(setup.ns.command(), setup, room, "Inside")
    outside = bot([], setup, room, "Outside")
    reports = {r["name"]: r for r in (result(inside), result(outside))}
    for name, report in reports.items():
        assert report["error"] is None, report
        assert received(report, "video", "frames") > 50, (name, report)
        assert received(report, "audio", "packets") > 100, (name, report)
    assert reports["Inside"]["candidate"]["type"] == "relay", reports["Inside"]
    assert reports["Inside"]["candidate"]["turn_client"] == "TurnClientTcpProtocol"
    # The namespace really cannot send UDP to the TURN server's UDP listener.
    before = setup.ns.dropped_udp_packets()
    setup.ns.send_udp(setup.ns.host_ip, setup.turn.port)
    assert setup.ns.dropped_udp_packets() == before + 1
