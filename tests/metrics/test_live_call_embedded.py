"""During a real call on the embedded default: metrics, JSON logs and the admin's figures.

One daphne (room worker inside), two aiortc participants publishing audio and VP8
video over loopback (bench.loadgen bots in their own process).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.metrics.support import eventually, get_json, participants, probe, scrape, total
from tests.multiprocess.admin_http import AdminSession
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne
from tests.support.ports import free_tcp_port

pytestmark = [pytest.mark.multiprocess, pytest.mark.media]

ROOM_PREFIX = "metrics-embedded"
ROOM = f"{ROOM_PREFIX}-0"
ADMIN = ("ops-admin", "ops-admin-password-1")


class Server(NamedTuple):
    daphne: DaphneServer
    metrics_port: int
    env: dict[str, str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("embedded-metrics")
    metrics_port = free_tcp_port()
    env = embedded_env(
        workdir / "db.sqlite3",
        VIDEOROOM_METRICS_PORT=str(metrics_port),
        LOG_FORMAT="json",
        ICE_HOST_ADDRESSES="127.0.0.1",
        STUN_URLS="",
    )
    manage(env, "migrate", "--noinput")
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN[1]},
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN[0],
        "--email",
        "ops@example.invalid",
    )
    with running_daphne(env, workdir / "daphne.log") as daphne:
        yield Server(daphne, metrics_port, env)


@pytest.fixture(scope="module")
def call(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    daphne, metrics_port, _ = server
    log = tmp_path_factory.mktemp("bots") / "bots.log"
    url = f"ws://127.0.0.1:{daphne.port}/socket/websocket?vsn=2.0.0"
    with participants(url, ROOM_PREFIX, log):
        try:
            eventually(
                lambda: (
                    total(
                        scrape(f"http://127.0.0.1:{metrics_port}/metrics"),
                        "videoroom_worker_forwarded_packets_total",
                    )
                    > 0
                ),
                timeout=90,
                what="forwarded packets",
            )
        except AssertionError:
            print(log.read_text(errors="replace")[-3000:], daphne.log())
            raise
        yield


def test_web_metrics_include_the_embedded_worker_with_rising_packet_counters(
    server: Server, call: None
) -> None:
    _, port, _ = server
    first = eventually(
        lambda: (
            (s := scrape(f"http://127.0.0.1:{port}/metrics")).get(
                'videoroom_worker_lease_renewals_total{outcome="ok"}'
            )
            and s
        ),
        timeout=10,
        what="a lease renewal",
    )
    assert first["videoroom_worker_rooms"] == 1
    assert first["videoroom_worker_peers"] == 2
    assert first['videoroom_worker_published_tracks{kind="video"}'] == 2
    assert first['videoroom_worker_subscribed_tracks{kind="video"}'] == 2
    assert first["videoroom_web_sockets_open"] == 2
    assert first["videoroom_web_channels_joined"] == 2
    assert first['videoroom_web_joins_total{outcome="ok"}'] == 2
    assert first["videoroom_web_join_reply_seconds_count"] == 2
    second = eventually(
        lambda: (
            (s := scrape(f"http://127.0.0.1:{port}/metrics"))
            and s["videoroom_worker_forwarded_packets_total"]
            > first["videoroom_worker_forwarded_packets_total"]
            and s
        ),
        timeout=10,
        what="forwarded packets to rise",
    )
    for name in ("received_packets", "received_bytes", "forwarded_bytes"):
        assert second[f"videoroom_worker_{name}_total"] > first[f"videoroom_worker_{name}_total"]
    assert second["videoroom_worker_event_loop_lag_seconds_count"] > 0


def test_admin_live_figures_show_each_participants_bitrate(server: Server, call: None) -> None:
    daphne, _, env = server
    pk = manage(
        env,
        "shell",
        "-c",
        f"from rooms.models import Room; print(Room.objects.get(name='{ROOM}').pk)",
    ).split()[-1]  # after the shell's "N objects imported automatically" line
    admin = AdminSession(daphne.origin)
    admin.login(*ADMIN)
    page = admin.get(f"/admin/rooms/room/{pk}/change/")
    assert 'id="live-figures"' in page

    def figures() -> list[dict[str, object]] | None:
        data = json.loads(admin.get(f"/admin/rooms/room/{pk}/live-figures/"))
        peers = data["peers"]
        if len(peers) == 2 and all((p["bitrate_in"] or 0) > 0 for p in peers):
            return list(peers)
        return None

    peers = eventually(figures, timeout=20, what="two participants with a bitrate")
    for peer in peers:
        assert peer["bitrate_out"] and float(peer["bitrate_out"]) > 0  # type: ignore[arg-type]
        assert peer["packets_in"] and peer["packets_out"]


def test_json_logs_parse_and_carry_room_peer_and_worker_ids(server: Server, call: None) -> None:
    daphne, _, _ = server
    lines = [line for line in daphne.log_path.read_text().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert entries, daphne.log()
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    with_peer = [e for e in entries if e.get("room") == ROOM and e.get("peer")]
    assert with_peer, "no line carries the room and a peer id"
    assert all(e.get("worker") for e in with_peer)
    assert not any(
        line.strip() and not line.startswith("{") and "INFO" in line
        for line in daphne.log_path.read_text().splitlines()[-50:]
    ), "plain log lines after the JSON ones"


def test_healthz_is_ready_on_the_in_memory_layer_and_the_probe_says_so(server: Server) -> None:
    daphne, _, _ = server
    status, body = get_json(f"{daphne.origin}/healthz")
    assert (status, body["status"]) == (200, "ok")
    assert probe(f"{daphne.origin}/healthz") == 0
    assert probe(f"http://127.0.0.1:{free_tcp_port()}/healthz") == 1


def test_metrics_port_refuses_addresses_outside_the_allow_list(tmp_path: Path) -> None:
    from rooms.metrics.http import MetricsApp, parse_networks

    app = MetricsApp(parse_networks(["10.0.0.0/8"]))
    statuses: list[str] = []
    body = app(
        {"REMOTE_ADDR": "127.0.0.1", "PATH_INFO": "/metrics"}, lambda s, h: statuses.append(s)
    )
    assert statuses == ["403 Forbidden"] and b"forbidden" in b"".join(body)
