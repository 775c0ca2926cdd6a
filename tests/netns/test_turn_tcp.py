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
from pathlib import Path
from typing import Any

import pytest
import shortuuid

from tests.netns.udp_blocked import UdpBlockedSite, udp_blocked_site

pytestmark = [pytest.mark.multiprocess, pytest.mark.media]

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 20.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UdpBlockedSite]:
    with udp_blocked_site(tmp_path_factory.mktemp("turn-tcp")) as blocked:
        yield blocked


def bot(command: list[str], site: UdpBlockedSite, room: str, name: str) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "tests.netns.bot_main",
        f"ws://{site.ns.host_ip}:{site.daphne.port}/socket/websocket?vsn=2.0.0",
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


def test_a_client_without_udp_gets_media_through_turn_over_tcp(site: UdpBlockedSite) -> None:
    room = "tcp-" + shortuuid.uuid()[:8]
    inside = bot(site.ns.command(), site, room, "Inside")
    outside = bot([], site, room, "Outside")
    reports = {r["name"]: r for r in (result(inside), result(outside))}
    for name, report in reports.items():
        assert report["error"] is None, report
        assert received(report, "video", "frames") > 50, (name, report)
        assert received(report, "audio", "packets") > 100, (name, report)
    assert reports["Inside"]["candidate"]["type"] == "relay", reports["Inside"]
    assert reports["Inside"]["candidate"]["turn_client"] == "TurnClientTcpProtocol"
    site.assert_udp_blocked()
