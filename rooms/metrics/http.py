"""Each process's own metrics port: ``/metrics`` and, on a worker, ``/healthz``.

Served by a small threaded WSGI server beside the process's event loop, so a busy
loop never delays a scrape of the counters (the scrape-time worker figures wait for
the loop at most rooms.metrics.worker.SCRAPE_TIMEOUT_SECONDS). Every request's
peer address is checked against an allow-list of networks (default: loopback and
private ranges), since the figures describe who is in which room.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

logger = logging.getLogger(__name__)

Network = IPv4Network | IPv6Network
StartResponse = Callable[..., Any]
HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]

DEFAULT_ALLOW = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """Networks from CIDR strings; ValueError names the bad one."""
    networks = []
    for item in items:
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {item!r}") from None
    return tuple(networks)


def allowed(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class MetricsApp:
    """WSGI: /metrics from the default registry, /healthz from ``health`` if given."""

    def __init__(self, networks: Sequence[Network], health: HealthCheck | None = None) -> None:
        self._networks = tuple(networks)
        self._health = health
        self._metrics = make_wsgi_app()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not allowed(environ.get("REMOTE_ADDR", ""), self._networks):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"forbidden\n"]
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics(environ, start_response)
        if path == "/healthz" and self._health is not None:
            ok, body = self._health()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("metrics http: %s", format % args)


def serve(
    port: int, bind: str, networks: Sequence[Network], health: HealthCheck | None = None
) -> WSGIServer:
    """Serve on ``bind``:``port`` from a daemon thread; returns the server (for shutdown)."""
    server = make_server(
        bind,
        port,
        MetricsApp(networks, health),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    logger.info("metrics on http://%s:%s/metrics", bind, server.server_port)
    return server
