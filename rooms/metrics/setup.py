"""Starting each process's metrics port, from ``settings.VIDEOROOM_OPS``."""

from __future__ import annotations

from django.conf import settings

from rooms.metrics.http import HealthCheck, parse_networks, serve


def start_web_metrics() -> int | None:
    """In a web process: serve /metrics if VIDEOROOM_METRICS_PORT is set. Returns the port.

    In the embedded default the embedded worker's series are in the same registry, so
    this port shows them too.
    """
    # Imported here: declaring the web series registers them, and a worker process has none.
    from rooms.metrics import web

    web.install()
    ops = settings.VIDEOROOM_OPS
    if ops["METRICS_PORT"] is None:
        return None
    return _serve("VIDEOROOM_METRICS_PORT", ops["METRICS_PORT"], None)


def start_worker_metrics() -> int | None:
    """In a roomworker process: /metrics and /healthz on VIDEOROOM_WORKER_METRICS_PORT."""
    ops = settings.VIDEOROOM_OPS
    if ops["WORKER_METRICS_PORT"] is None:
        return None
    from rooms.metrics import worker as worker_metrics

    max_lag = ops["WORKER_MAX_LOOP_LAG_SECONDS"]
    return _serve(
        "VIDEOROOM_WORKER_METRICS_PORT",
        ops["WORKER_METRICS_PORT"],
        lambda: worker_metrics.health(max_lag),
    )


def _serve(variable: str, port: int, health: HealthCheck | None) -> int:
    ops = settings.VIDEOROOM_OPS
    try:
        server = serve(port, ops["METRICS_BIND"], parse_networks(ops["METRICS_ALLOW"]), health)
    except OSError as error:
        # Two processes on one host given the same port: fail at boot, naming the setting.
        raise RuntimeError(
            f"{variable}: cannot listen on {ops['METRICS_BIND']}:{port}: {error}"
        ) from None
    return int(server.server_port)
