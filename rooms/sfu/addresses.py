"""Which remote addresses the worker may send ICE connectivity checks to.

A client names its ICE candidates itself, and the worker sends STUN Binding requests to
every one of them, retransmitted, for every pair: without a filter, any participant can
make the worker probe or flood an address of its choosing (its own LAN, the cloud
metadata service at 169.254.169.254, a victim on the internet) from the worker's
address. ``MediaConfig.allowed_remote_networks`` / ``denied_remote_networks``
(``ICE_ALLOWED_REMOTE_NETWORKS``) say where checks may go; the Endpoint drops other
candidates and refuses to start a check towards any other address, however the pair
was learned (signalled or peer-reflexive).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from rooms.sfu.config import MediaConfig

_Address = IPv4Address | IPv6Address


class RemoteAddressPolicy:
    """An address passes if it is in an allowed network (any, when none is named) and in no
    denied one. IPv4-mapped IPv6 addresses are judged as the IPv4 address they reach."""

    def __init__(self, allowed: Sequence[str], denied: Sequence[str]) -> None:
        self._allowed = [ip_network(net, strict=False) for net in allowed]
        self._denied = [ip_network(net, strict=False) for net in denied]

    def allows(self, host: str) -> bool:
        try:
            address: _Address = ip_address(host.split("%", 1)[0])
        except ValueError:
            return False  # names are never contacted (mDNS is dropped before)
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in self._denied if net.version == address.version):
            return False
        if not self._allowed:
            return True
        return any(address in net for net in self._allowed if net.version == address.version)


@functools.lru_cache(maxsize=8)
def policy_for(config: MediaConfig) -> RemoteAddressPolicy:
    """The policy of one MediaConfig, built once per configuration."""
    return RemoteAddressPolicy(config.allowed_remote_networks, config.denied_remote_networks)
