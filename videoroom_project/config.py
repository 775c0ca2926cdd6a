"""Configuration read from the environment once, validated at boot.

Every error names the variable that caused it, so a misconfigured deployment
fails on start with a message an operator can act on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from ipaddress import ip_address, ip_network
from typing import TypedDict
from urllib.parse import urlparse

from rooms.ice import parse_turn_url
from rooms.limits import Limits
from rooms.redis_target import SentinelTarget
from rooms.sfu.config import (
    ALWAYS_DENIED,
    DEBUG_DENIED,
    DEFAULT_TURN_TTL_SECONDS,
    PRODUCTION_DENIED,
    MediaConfig,
)


class ConfigError(ValueError):
    """An environment variable holds a value the project cannot use."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Typed accessors over a mapping of environment variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def string(self, name: str, default: str = "") -> str:
        return self._environ.get(name, default).strip()

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = self._environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(name, f"expected true/false, got {raw!r}")

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        raw = self._environ.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise ConfigError(name, f"expected an integer, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and {maximum}"
            raise ConfigError(name, f"must be between {minimum}{upper}, got {value}")
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self._environ.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            raise ConfigError(name, f"expected a number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(name, f"must be at least {minimum}, got {value}")
        return value

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self._environ.get(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def url(self, name: str, schemes: tuple[str, ...]) -> str:
        raw = self.string(name)
        if not raw:
            return ""
        parsed = urlparse(raw)
        if parsed.scheme not in schemes:
            raise ConfigError(name, f"scheme must be one of {', '.join(schemes)}, got {raw!r}")
        return raw

    def port_range(self, name: str) -> tuple[int, int] | None:
        raw = self.string(name)
        if not raw:
            return None
        low_text, sep, high_text = raw.partition("-")
        try:
            low, high = int(low_text), int(high_text if sep else low_text)
        except ValueError:
            raise ConfigError(name, f"expected LOW-HIGH, got {raw!r}") from None
        if not 1024 <= low <= high <= 65535:
            raise ConfigError(name, f"expected 1024 <= LOW <= HIGH <= 65535, got {raw!r}")
        return low, high

    def ip(self, name: str) -> str:
        raw = self.string(name)
        if not raw:
            return ""
        try:
            return str(ip_address(raw))
        except ValueError:
            raise ConfigError(name, f"expected an IP address, got {raw!r}") from None


def read_media_config(env: Env) -> MediaConfig:
    stun_urls = tuple(env.items("STUN_URLS"))
    for url in stun_urls:
        if not url.startswith(("stun:", "stuns:")):
            raise ConfigError(
                "STUN_URLS", f"each entry must start with stun: or stuns:, got {url!r}"
            )
    turn_urls = tuple(env.items("TURN_URLS"))
    for url in turn_urls:
        try:
            parse_turn_url(url)
        except ValueError as error:
            raise ConfigError("TURN_URLS", f"each entry must be a TURN URL: {error}") from None
    turn_secret = env.string("TURN_SECRET")
    if turn_urls and not turn_secret:
        raise ConfigError("TURN_SECRET", "required when TURN_URLS is set")
    host_addresses = tuple(env.items("ICE_HOST_ADDRESSES"))
    for address in host_addresses:
        try:
            ip_address(address)
        except ValueError:
            raise ConfigError("ICE_HOST_ADDRESSES", f"not an IP address: {address!r}") from None
    allowed, denied = read_remote_networks(env)
    return MediaConfig(
        external_ip=env.ip("EXTERNAL_IP"),
        port_range=env.port_range("ICE_PORT_RANGE"),
        stun_urls=stun_urls,
        turn_urls=turn_urls,
        turn_secret=turn_secret,
        turn_ttl_seconds=env.integer(
            "TURN_TTL_SECONDS", DEFAULT_TURN_TTL_SECONDS, minimum=60, maximum=86400
        ),
        host_addresses=host_addresses,
        allowed_remote_networks=allowed,
        denied_remote_networks=denied,
    )


def read_remote_networks(env: Env) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(allowed, denied) remote ICE networks from ICE_ALLOWED_REMOTE_NETWORKS.

    Unset: any address but loopback (allowed when DJANGO_DEBUG is true), link-local
    (cloud metadata), multicast and unspecified. Set (CIDRs, comma-separated): exactly
    those networks, minus multicast and unspecified.
    """
    name = "ICE_ALLOWED_REMOTE_NETWORKS"
    if env.string(name) == "":
        debug = env.boolean("DJANGO_DEBUG", default=False)
        return (), DEBUG_DENIED if debug else PRODUCTION_DENIED
    allowed = []
    for item in env.items(name):
        try:
            allowed.append(str(ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(name, f"not a network in CIDR notation: {item!r}") from None
    if not allowed:
        raise ConfigError(name, "names no network")
    return tuple(allowed), ALWAYS_DENIED


class VideoroomSettings(TypedDict):
    """settings.VIDEOROOM: the room server's own knobs."""

    AUTO_CREATE_ROOMS: bool
    DEFAULT_MAX_PARTICIPANTS: int
    WORKER_LEASE_SECONDS: float
    WORKER_STALL_SECONDS: float
    WEB_LEASE_SECONDS: float
    SOCKET_IDLE_TIMEOUT_SECONDS: float
    JOIN_TIMEOUT_SECONDS: float
    RESUME_GRACE_SECONDS: float
    REDIS_PREFIX: str


def read_videoroom_settings(env: Env) -> VideoroomSettings:
    prefix = env.string("VIDEOROOM_REDIS_PREFIX", "videoroom")
    if not prefix.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(
            "VIDEOROOM_REDIS_PREFIX", f"use letters, digits, '-' or '_', got {prefix!r}"
        )
    return {
        # Joining an unknown room creates it (True) or is refused with "room not found";
        # a valid signed join token creates its room either way.
        "AUTO_CREATE_ROOMS": read_room_auto_create(env),
        # Participant limit of rooms created on join.
        "DEFAULT_MAX_PARTICIPANTS": env.integer(
            "VIDEOROOM_DEFAULT_MAX_PARTICIPANTS", 12, minimum=1, maximum=1000
        ),
        # A worker whose lease is older than this is dead: how long a kill -9 goes unnoticed.
        # Renewed from a thread every sixth of it, whatever the event loop's load.
        "WORKER_LEASE_SECONDS": env.number("VIDEOROOM_WORKER_LEASE_SECONDS", 1.5, minimum=1.0),
        # Leases are renewed from a thread, so a busy event loop keeps its worker's lease;
        # a loop that has not run for this long (deadlocked, stuck) no longer does.
        "WORKER_STALL_SECONDS": env.number("VIDEOROOM_WORKER_STALL_SECONDS", 30.0, minimum=2.0),
        # A web process's lease, renewed from its event loop while it has joined peers;
        # workers remove the peers of a web process without one. Longer than the worker
        # lease: a busy daphne loop must not cost its participants their seats.
        "WEB_LEASE_SECONDS": env.number("VIDEOROOM_WEB_LEASE_SECONDS", 6.0, minimum=2.0),
        # Phoenix closes a socket that sent nothing for 60 s (its :timeout default).
        "SOCKET_IDLE_TIMEOUT_SECONDS": env.number(
            "VIDEOROOM_SOCKET_IDLE_TIMEOUT_SECONDS", 60.0, minimum=1.0
        ),
        # How long a join waits for the room worker before replying an error.
        "JOIN_TIMEOUT_SECONDS": env.number("VIDEOROOM_JOIN_TIMEOUT_SECONDS", 8.0, minimum=0.5),
        # How long a room keeps a resumable peer whose websocket is gone (or whose web
        # process died) before removing it; its media keeps flowing meanwhile. 0: at once.
        "RESUME_GRACE_SECONDS": env.number("VIDEOROOM_RESUME_GRACE_SECONDS", 20.0, minimum=0.0),
        "REDIS_PREFIX": prefix,
    }


ROOM_AUTO_CREATE = "VIDEOROOM_ROOM_AUTO_CREATE"
# The variable's name before issue 10, still read when the new one is unset.
ROOM_AUTO_CREATE_ALIAS = "VIDEOROOM_AUTO_CREATE_ROOMS"


def read_room_auto_create(env: Env) -> bool:
    """VIDEOROOM_ROOM_AUTO_CREATE (alias VIDEOROOM_AUTO_CREATE_ROOMS), default true.

    True suits development and open deployments; set it false where rooms are made in
    the admin, with ``manage.py createroom`` or by signed tokens only.
    """
    if env.string(ROOM_AUTO_CREATE):
        return env.boolean(ROOM_AUTO_CREATE, default=True)
    return env.boolean(ROOM_AUTO_CREATE_ALIAS, default=True)


def read_redis_sentinel(env: Env, redis_url: str) -> SentinelTarget | None:
    """VIDEOROOM_REDIS_SENTINELS (``host:port,...``) and the master they name; else None.

    Exclusive with REDIS_URL: one Redis for the layer and the registry, named once.
    """
    name = "VIDEOROOM_REDIS_SENTINELS"
    entries = env.items(name)
    if not entries:
        return None
    if redis_url:
        raise ConfigError(name, "set either REDIS_URL or VIDEOROOM_REDIS_SENTINELS, not both")
    sentinels = tuple(_host_port(name, entry) for entry in entries)
    master = env.string("VIDEOROOM_REDIS_SENTINEL_MASTER", "mymaster")
    if not master or any(c.isspace() for c in master):
        raise ConfigError(
            "VIDEOROOM_REDIS_SENTINEL_MASTER", f"expected a master name, got {master!r}"
        )
    password = env.string("VIDEOROOM_REDIS_PASSWORD") or None
    db = env.integer("VIDEOROOM_REDIS_DB", 0, minimum=0, maximum=15)
    return SentinelTarget(sentinels, master, password, db)


def _host_port(name: str, entry: str) -> tuple[str, int]:
    """``host:port`` or ``[v6 address]:port``, the port 1-65535."""
    host, sep, port_text = entry.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(name, f"expected host:port entries, comma-separated; got {entry!r}")
    return host, int(port_text)


def read_allowed_origins(env: Env) -> tuple[str, ...]:
    """VIDEOROOM_ALLOWED_ORIGINS: full origins (scheme://host[:port]); empty = same-origin."""
    from rooms.web.origins import parse_origin

    origins = []
    for item in env.items("VIDEOROOM_ALLOWED_ORIGINS"):
        origin = parse_origin(item)
        if origin is None:
            raise ConfigError(
                "VIDEOROOM_ALLOWED_ORIGINS",
                f"each entry must be an origin like https://meet.example.com[:port], got {item!r}",
            )
        origins.append(str(origin))
    return tuple(origins)


def read_limits(env: Env) -> Limits:
    """``Limits`` with each field overridable as ``VIDEOROOM_LIMIT_<FIELD>`` (upper case)."""
    values: dict[str, int | float] = {}
    for spec in dataclasses.fields(Limits):
        name = f"VIDEOROOM_LIMIT_{spec.name.upper()}"
        default = spec.default
        if isinstance(default, int):
            values[spec.name] = env.integer(name, default, minimum=1)
        else:
            assert isinstance(default, float)
            values[spec.name] = env.number(name, default, minimum=0.001)
    return Limits(**values)  # type: ignore[arg-type]


class OpsSettings(TypedDict):
    """settings.VIDEOROOM_OPS: metrics ports, who may read them, health bounds, log format."""

    METRICS_PORT: int | None
    WORKER_METRICS_PORT: int | None
    METRICS_BIND: str
    METRICS_ALLOW: tuple[str, ...]  # networks, normalized ("10.0.0.0/8")
    HEALTH_TIMEOUT_SECONDS: float
    WORKER_MAX_LOOP_LAG_SECONDS: float
    LOG_FORMAT: str


def _optional_port(env: Env, name: str) -> int | None:
    if not env.string(name):
        return None
    return env.integer(name, 0, minimum=0, maximum=65535)


def read_ops_settings(env: Env) -> OpsSettings:
    # Imported here: of rooms.metrics, only this reader needs anything at settings time.
    from rooms.metrics.http import DEFAULT_ALLOW, parse_networks

    allow_items = env.items("VIDEOROOM_METRICS_ALLOW", list(DEFAULT_ALLOW))
    try:
        allow = tuple(str(network) for network in parse_networks(allow_items))
    except ValueError as error:
        raise ConfigError("VIDEOROOM_METRICS_ALLOW", str(error)) from None
    bind = env.string("VIDEOROOM_METRICS_BIND", "0.0.0.0")
    try:
        ip_address(bind)
    except ValueError:
        raise ConfigError(
            "VIDEOROOM_METRICS_BIND", f"expected an IP address, got {bind!r}"
        ) from None
    log_format = env.string("LOG_FORMAT", "plain").lower()
    if log_format not in ("plain", "json"):
        raise ConfigError("LOG_FORMAT", f"expected plain or json, got {log_format!r}")
    return {
        # Unset: no metrics port. Each web process (daphne) needs its own.
        "METRICS_PORT": _optional_port(env, "VIDEOROOM_METRICS_PORT"),
        # Each room worker process needs its own; it also answers /healthz there.
        "WORKER_METRICS_PORT": _optional_port(env, "VIDEOROOM_WORKER_METRICS_PORT"),
        "METRICS_BIND": bind,
        # Checked per request against the peer address; the figures name rooms.
        "METRICS_ALLOW": allow,
        # /healthz: a channel-layer round trip slower than this is a failure.
        "HEALTH_TIMEOUT_SECONDS": env.number("VIDEOROOM_HEALTH_TIMEOUT_SECONDS", 2.0, minimum=0.1),
        # A worker whose event loop runs later than this is unhealthy (forwarding suffers).
        "WORKER_MAX_LOOP_LAG_SECONDS": env.number(
            "VIDEOROOM_WORKER_MAX_LOOP_LAG_SECONDS", 1.0, minimum=0.05
        ),
        "LOG_FORMAT": log_format,
    }
