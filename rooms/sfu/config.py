"""The SFU's own configuration: what the room worker needs to reach browsers.

Built from the environment by ``videoroom_project.config.read_media_config``; the
app never reads the project package.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    turn_ttl_seconds: int = 86400
    # Host addresses aioice may gather; empty means every interface.
    host_addresses: tuple[str, ...] = field(default_factory=tuple)
