"""Scraping /metrics and running synthetic participants against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))
T = TypeVar("T")


def scrape(url: str) -> dict[str, float]:
    """Every sample of a /metrics page, keyed ``name{label="value",...}`` (labels sorted)."""
    with _LOOPBACK.open(url, timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of a GET, for 2xx and error statuses alike."""
    try:
        with _LOOPBACK.open(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def eventually(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``check`` every 0.5 s until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError) as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} ({last_error})")
        time.sleep(0.5)


@contextmanager
def participants(
    socket_url: str, room_prefix: str, log_path: Path, count: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    """``count`` aiortc participants (bench.loadgen bots, audio and VP8 video) in room
    ``<room_prefix>-0``, in a process of their own, for about a minute."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                "--url",
                socket_url,
                "--participants",
                str(count),
                "--room-prefix",
                room_prefix,
                "--warmup",
                "1",
                "--duration",
                "60",
                "--host-address",
                "127.0.0.1",
                "--quiet",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def total(samples: dict[str, float], name: str) -> float:
    """The sum of every sample of ``name`` whatever its labels."""
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


def probe(url: str) -> int:
    """Exit status of ``python -m rooms.metrics.probe URL``, as a compose HEALTHCHECK runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "rooms.metrics.probe", url],
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    return done.returncode
