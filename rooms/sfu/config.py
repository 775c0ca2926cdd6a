"""The SFU's own configuration: what the room worker needs to reach browsers.

Built from the environment by ``videoroom_project.config.read_media_config``; the
app never reads the project package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Remote ICE addresses that are never a unicast peer: unspecified, multicast, broadcast.
ALWAYS_DENIED = ("0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32")
LOOPBACK = ("127.0.0.0/8", "::1/128")
# Production's default denial. Link-local covers the cloud metadata services
# (169.254.169.254; fd00:ec2::254 is AWS's IPv6 one, outside fe80::/10).
PRODUCTION_DENIED = (*ALWAYS_DENIED, *LOOPBACK, "169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128")
# DJANGO_DEBUG's default: as production, but a browser on this host may use loopback.
DEBUG_DENIED = tuple(net for net in PRODUCTION_DENIED if net not in LOOPBACK)


# TURN credentials go to admitted peers only, one pair per peer (the username names the
# peer id). Two hours outlast a call's reconnects and ICE restarts (a rejoin is a new peer
# with new credentials) and keep a leaked pair short-lived.
DEFAULT_TURN_TTL_SECONDS = 2 * 3600


@dataclass(frozen=True)
class MediaConfig:
    """What the room worker's SFU needs to reach browsers."""

    # Public address advertised in ICE candidates (Membrane's EXTERNAL_IP).
    external_ip: str = ""
    # Inclusive UDP port range for ICE sockets; None lets the OS choose.
    port_range: tuple[int, int] | None = None
    # ICE servers as RTCIceServer-shaped dicts: {"urls": [...], "username"?, "credential"?}
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    # Lifetime of the TURN credentials handed to each admitted peer (TURN_TTL_SECONDS).
    turn_ttl_seconds: int = DEFAULT_TURN_TTL_SECONDS
    # Host addresses aioice may gather; empty means every interface.
    host_addresses: tuple[str, ...] = field(default_factory=tuple)
    # Remote addresses ICE checks may go to (rooms/sfu/addresses.py): in an allowed network
    # (any, when empty) and in no denied one. The default denies loopback, link-local
    # (cloud metadata), multicast and unspecified: production's ICE_ALLOWED_REMOTE_NETWORKS
    # default. Strings, so the config stays a hashable value.
    allowed_remote_networks: tuple[str, ...] = ()
    denied_remote_networks: tuple[str, ...] = PRODUCTION_DENIED
