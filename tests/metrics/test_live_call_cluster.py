"""On Redis, a web process and a roomworker process each serve their own /metrics; both
health checks go unready when Redis goes away.

A dedicated cluster (its own redis-server), since the test stops Redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import redis

from tests.metrics.support import ROOT, eventually, get_json, participants, probe, scrape, total
from tests.multiprocess.admin_http import AdminSession
from tests.support.cluster import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    Cluster,
    WebProcess,
    WorkerProcess,
    running_cluster,
)
from tests.support.ports import free_tcp_port

pytestmark = [pytest.mark.multiprocess, pytest.mark.media, pytest.mark.redis]

ROOM_PREFIX = "metrics-cluster"


class Deployed(NamedTuple):
    cluster: Cluster
    web: WebProcess
    web_metrics: str
    worker: WorkerProcess
    worker_metrics: str


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with running_cluster(webs=0, workers=0) as cluster:
        cluster.env["ICE_HOST_ADDRESSES"] = "127.0.0.1"
        cluster.env["LOG_FORMAT"] = "json"
        worker_port, web_port = free_tcp_port(), free_tcp_port()
        cluster.env["VIDEOROOM_WORKER_METRICS_PORT"] = str(worker_port)
        worker = cluster.launch_worker()
        del cluster.env["VIDEOROOM_WORKER_METRICS_PORT"]
        cluster.env["VIDEOROOM_METRICS_PORT"] = str(web_port)
        web = cluster.launch_web()
        cluster.wait_ready(worker, web)
        try:
            yield Deployed(
                cluster,
                web,
                f"http://127.0.0.1:{web_port}",
                worker,
                f"http://127.0.0.1:{worker_port}",
            )
        except BaseException:
            print(cluster.logs())
            raise


def test_each_process_serves_its_own_series_during_a_call(
    deployed: Deployed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log = tmp_path_factory.mktemp("bots") / "bots.log"
    with participants(deployed.web.socket_url, ROOM_PREFIX, log):
        worker_url = f"{deployed.worker_metrics}/metrics"
        first = eventually(
            lambda: (
                (s := scrape(worker_url))["videoroom_worker_forwarded_packets_total"] > 0
                and s["videoroom_worker_peers"] == 2
                and s
            ),
            timeout=90,
            what="two peers and forwarded packets on the worker",
        )
        assert first["videoroom_worker_rooms"] == 1
        assert first['videoroom_worker_subscribed_tracks{kind="audio"}'] == 2
        later = eventually(
            lambda: (
                (s := scrape(worker_url))["videoroom_worker_received_packets_total"]
                > first["videoroom_worker_received_packets_total"]
                and s["videoroom_worker_forwarded_packets_total"]
                > first["videoroom_worker_forwarded_packets_total"]
                and s
            ),
            timeout=10,
            what="packet counters to rise",
        )
        assert later["videoroom_worker_forwarded_bytes_total"] > 0
        # The worker process serves no web series and the web process no worker gauges.
        assert "videoroom_web_sockets_open" not in later
        web = scrape(f"{deployed.web_metrics}/metrics")
        assert web["videoroom_web_sockets_open"] == 2
        assert web["videoroom_web_channels_joined"] == 2
        assert web['videoroom_web_joins_total{outcome="ok"}'] == 2
        assert total(web, "videoroom_worker_rooms") == 0
        # The admin on the web process reads the figures the worker put into Redis.
        admin = AdminSession(deployed.web.http_url)
        admin.login(ADMIN_USERNAME, ADMIN_PASSWORD)
        room_pk = room_pk_of(deployed.cluster, f"{ROOM_PREFIX}-0")

        def figures() -> list[dict[str, object]] | None:
            reply = json.loads(admin.get(f"/admin/rooms/room/{room_pk}/live-figures/"))
            peers = reply["peers"]
            return peers if len(peers) == 2 and all(p["bitrate_in"] for p in peers) else None

        peers = eventually(figures, timeout=20, what="figures of both peers from Redis")
        assert all(float(p["bitrate_out"] or 0) > 0 for p in peers)  # type: ignore[arg-type]
    assert get_json(f"{deployed.worker_metrics}/healthz")[0] == 200
    worker_lines = [
        json.loads(line) for line in deployed.worker.log().splitlines() if line.startswith("{")
    ]
    # From the worker's start on (the metrics port opens before it has an id), every line.
    started = next(i for i, e in enumerate(worker_lines) if "worker" in e)
    assert all(e.get("worker") == deployed.worker.worker_id for e in worker_lines[started:])
    assert any(e.get("room") == f"{ROOM_PREFIX}-0" and e.get("peer") for e in worker_lines)


def room_pk_of(cluster: Cluster, name: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from rooms.models import Room; print(Room.objects.get(name={name!r}).pk)",
        ],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def test_web_and_worker_health_go_unready_when_redis_goes_away(deployed: Deployed) -> None:
    web_health = f"{deployed.web.http_url}/healthz"
    worker_health = f"{deployed.worker_metrics}/healthz"
    assert get_json(web_health) == (200, {"status": "ok", "layer_seconds": pytest.approx(0, abs=2)})
    assert get_json(worker_health)[0] == 200
    redis.Redis.from_url(deployed.cluster.redis_url).shutdown(nosave=True)

    eventually(lambda: get_json(web_health)[0] == 503, timeout=15, what="web /healthz 503")
    # Renewals fail from now on; the lease is stale one lease (6 s) after the last one.
    _, body = eventually(
        lambda: (r := get_json(worker_health))[0] == 503 and r,
        timeout=20,
        what="worker /healthz 503",
    )
    assert any("lease" in problem for problem in body["problems"])
    assert probe(web_health) == probe(worker_health) == 1  # what the HEALTHCHECKs see
    # A worker that cannot receive holds its renewals: none succeeds any more.
    time.sleep(2.5)  # longer than the 2 s between renewals
    renewed = scrape(f"{deployed.worker_metrics}/metrics")
    assert 'videoroom_worker_lease_renewals_total{outcome="failed"}' in renewed
    ok = 'videoroom_worker_lease_renewals_total{outcome="ok"}'
    assert scrape(f"{deployed.worker_metrics}/metrics")[ok] == renewed[ok]
