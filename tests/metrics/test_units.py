"""The parts of rooms.metrics that need no server: totals, health rules, allow-list, config."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import RequestFactory

from rooms.metrics import health as web_health
from rooms.metrics import worker as worker_metrics
from rooms.metrics.http import MetricsApp, allowed, parse_networks
from rooms.metrics.sampling import COUNTERS, Totals
from videoroom_project.config import ConfigError, Env, read_ops_settings


def test_totals_never_go_down_when_objects_go_away() -> None:
    totals = Totals()
    a, b = object(), object()
    first = totals.update({a: {"forwarded_packets": 10}, b: {"forwarded_packets": 5}})
    assert first["forwarded_packets"] == 15
    second = totals.update({b: {"forwarded_packets": 7}})  # a is gone with its 10
    assert second["forwarded_packets"] == 17
    third = totals.update({object(): {"forwarded_packets": 1}})
    assert third["forwarded_packets"] == 18
    assert set(third) == set(COUNTERS)


def test_forwarder_counts_the_samplers_read_still_exist() -> None:
    """Fails first if rooms.sfu renames what rooms/metrics/sampling.py reads."""
    from rooms.sfu.forwarding import Publication

    async def no_pli() -> None:
        return None

    publication = Publication("t1", "video", no_pli)
    subscription = publication.subscribe()
    assert publication.keyframes_requested == 0
    assert publication.subscriber_count == 1
    assert publication.subscriptions == (subscription,)
    assert (subscription.retransmitted, subscription.held_back) == (0, 0)


def test_worker_health_needs_a_fresh_lease_and_a_prompt_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = worker_metrics._Health(lease_seconds=6.0)
    monkeypatch.setattr(worker_metrics, "_health", state)
    ok, body = worker_metrics.health(1.0)
    assert not ok and "no lease renewed yet" in body["problems"]
    now = time.monotonic()
    state.lease_renewed_at, state.lag_measured_at, state.lag = now, now, 0.01
    assert worker_metrics.health(1.0) == (True, {"status": "ok", "problems": []})
    state.lag = 1.5
    assert not worker_metrics.health(1.0)[0]
    state.lag, state.lease_renewed_at = 0.0, now - 7.0
    ok, body = worker_metrics.health(1.0)
    assert not ok and body["problems"][0].startswith("lease last renewed")
    state.lease_renewed_at, state.lag_measured_at = now, now - 5.0
    assert "event loop silent" in worker_metrics.health(1.0)[1]["problems"][0]


def test_allow_list_matches_networks_and_mapped_addresses() -> None:
    networks = parse_networks(["127.0.0.0/8", "10.0.0.0/8"])
    assert allowed("127.0.0.1", networks)
    assert allowed("::ffff:10.1.2.3", networks)
    assert not allowed("8.8.8.8", networks)
    assert not allowed("not an address", networks)
    statuses: list[str] = []
    app = MetricsApp(networks, health=lambda: (False, {"status": "unhealthy"}))
    body = app(
        {"REMOTE_ADDR": "10.0.0.2", "PATH_INFO": "/healthz"}, lambda s, h: statuses.append(s)
    )
    assert statuses == ["503 Service Unavailable"] and b"unhealthy" in b"".join(body)
    app({"REMOTE_ADDR": "192.0.2.1", "PATH_INFO": "/metrics"}, lambda s, h: statuses.append(s))
    assert statuses[-1] == "403 Forbidden"


def test_ops_settings_are_validated_and_name_the_variable() -> None:
    ops = read_ops_settings(Env({}))
    assert ops["METRICS_PORT"] is None and ops["LOG_FORMAT"] == "plain"
    networks = parse_networks(ops["METRICS_ALLOW"])
    assert allowed("192.168.1.5", networks) and not allowed("8.8.8.8", networks)
    assert read_ops_settings(Env({"VIDEOROOM_METRICS_PORT": "9100"}))["METRICS_PORT"] == 9100
    for name, value in [
        ("VIDEOROOM_METRICS_ALLOW", "10.0.0.0/8,nonsense"),
        ("VIDEOROOM_METRICS_PORT", "70000"),
        ("VIDEOROOM_METRICS_BIND", "everywhere"),
        ("LOG_FORMAT", "xml"),
    ]:
        with pytest.raises(ConfigError, match=name):
            read_ops_settings(Env({name: value}))


class _DeadLayer:
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class _StuckLayer:
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        return None

    async def receive(self, channel: str) -> dict[str, Any]:
        import asyncio

        await asyncio.sleep(3600)
        return {}


@pytest.mark.parametrize("layer", [_DeadLayer(), _StuckLayer()], ids=["refused", "silent"])
async def test_healthz_is_503_when_the_layer_does_not_answer(
    layer: object, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.VIDEOROOM_OPS = {**settings.VIDEOROOM_OPS, "HEALTH_TIMEOUT_SECONDS": 0.2}
    monkeypatch.setattr(web_health, "get_channel_layer", lambda: layer)
    response = await web_health.healthz(RequestFactory().get("/healthz"))
    assert response.status_code == 503
    assert b"unavailable" in response.content


async def test_healthz_is_ok_after_a_round_trip_on_the_in_memory_layer() -> None:
    response = await web_health.healthz(RequestFactory().get("/healthz"))
    assert response.status_code == 200


class _IdleWorker:
    ref = None
    rooms: dict[str, Any] = {}


async def test_scrapes_sample_on_the_workers_loop_and_never_block_it() -> None:
    import asyncio

    worker = _IdleWorker()
    task = worker_metrics.attach(worker, 6.0)
    try:
        attached = next(a for a in worker_metrics._attached if a.worker() is worker)
        started = time.monotonic()
        assert attached.scrape() is attached.last  # from the loop itself: the last sample
        assert time.monotonic() - started < 0.5
        sample = await asyncio.to_thread(attached.scrape)  # from the HTTP thread: a fresh one
        assert sample is attached.last and sample.rooms == 0
        families = await asyncio.to_thread(lambda: list(worker_metrics.WorkerCollector().collect()))
        assert {f.name for f in families} >= {"videoroom_worker_rooms", "videoroom_worker_peers"}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert all(a.worker() is not worker for a in worker_metrics._attached)


def test_rooms_metrics_reads_no_private_attribute_of_another_object() -> None:
    """Only rooms.sfu.aiortc_hooks may (the project's layering rule): the samplers read
    public counts, so a refactoring of the SFU or the web side breaks a name, not a metric."""
    import ast
    from pathlib import Path

    found = []
    for path in (Path(__file__).resolve().parents[2] / "rooms" / "metrics").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = None
            if isinstance(node, ast.Attribute) and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            ):
                name = node.attr
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "setattr", "hasattr"}
                and isinstance(node.args[1], ast.Constant)
            ):
                name = str(node.args[1].value)
            if name and name.startswith("_") and not name.endswith("__"):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_a_metrics_port_already_taken_fails_at_boot_naming_the_setting(settings: Any) -> None:
    import socket

    from rooms.metrics.setup import start_worker_metrics

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.VIDEOROOM_OPS = {
            **settings.VIDEOROOM_OPS,
            "WORKER_METRICS_PORT": taken.getsockname()[1],
            "METRICS_BIND": "127.0.0.1",
        }
        with pytest.raises(RuntimeError, match="VIDEOROOM_WORKER_METRICS_PORT"):
            start_worker_metrics()
