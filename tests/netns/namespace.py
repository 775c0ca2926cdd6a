"""A client network namespace for tests: a veth pair to the root namespace, nothing else.

``client_namespace()`` creates namespace ``vr<id>`` with a veth pair whose root side is
``10.77.<n>.1/30`` and namespace side ``10.77.<n>.2/30`` (a /30 no other interface of the
host uses), a default route through the root side, and optionally an iptables rule in the
namespace dropping every UDP datagram it sends. Deleting the namespace on exit removes the
veth pair and the rule with it; nothing is changed in the root namespace's firewall.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import shortuuid


class NamespaceUnavailable(RuntimeError):
    """This machine cannot create the namespace (not root, no ip netns, no iptables)."""


@dataclass(frozen=True)
class ClientNamespace:
    name: str
    host_ip: str  # the root namespace's end of the veth pair
    client_ip: str  # the namespace's end

    def command(self, *args: str) -> list[str]:
        """``args`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *args]

    def send_udp(self, host: str, port: int) -> None:
        """One UDP datagram from inside the namespace (for checking that UDP is blocked)."""
        code = (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.sendto(b'probe', ({host!r}, {port}))"
        )
        subprocess.run(self.command("python3", "-c", code), capture_output=True, timeout=20)

    def dropped_udp_packets(self) -> int:
        """Packets the namespace's UDP drop rule has dropped so far."""
        out = _run(*self.command("iptables", "-L", "OUTPUT", "-v", "-n", "-x"))
        for line in out.splitlines():
            fields = line.split()
            if len(fields) > 3 and fields[2] == "DROP" and fields[3] in ("17", "udp"):
                return int(fields[0])
        return 0


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise NamespaceUnavailable(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "creating a network namespace needs root"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _free_subnet() -> int:
    used = _run("ip", "-4", "-o", "addr", "show")
    for n in range(200, 256):
        if f"10.77.{n}." not in used:
            return n
    raise NamespaceUnavailable("no free 10.77.x.0/30 subnet")


@contextmanager
def client_namespace(*, block_udp: bool) -> Iterator[ClientNamespace]:
    reason = unavailable_reason()
    if reason:
        raise NamespaceUnavailable(reason)
    suffix = shortuuid.uuid()[:6].lower()
    name, host_if, ns_if = f"vr{suffix}", f"vrh{suffix}", f"vrn{suffix}"
    subnet = _free_subnet()
    ns = ClientNamespace(name, f"10.77.{subnet}.1", f"10.77.{subnet}.2")
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        try:
            _run("ip", "link", "set", ns_if, "netns", name)
            _run("ip", "addr", "add", f"{ns.host_ip}/30", "dev", host_if)
            _run("ip", "link", "set", host_if, "up")
            _run(*ns.command("ip", "link", "set", "lo", "up"))
            _run(*ns.command("ip", "addr", "add", f"{ns.client_ip}/30", "dev", ns_if))
            _run(*ns.command("ip", "link", "set", ns_if, "up"))
            _run(*ns.command("ip", "route", "add", "default", "via", ns.host_ip))
            if block_udp:
                _run(
                    *ns.command(
                        "iptables", "-A", "OUTPUT", "-p", "udp", "!", "-o", "lo", "-j", "DROP"
                    )
                )
            yield ns
        finally:
            # Gone with the namespace when its end moved there; removed here otherwise.
            subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=20)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
