"""Every bench command runs end to end in its seconds-long smoke mode, so none can rot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.multiprocess]

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 240  # seconds per command; a smoke run takes 10-60 s


def run_bench(module: str, *args: str) -> str:
    """Run ``python -m <module> --smoke <args>``; its stdout, or fail with its output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", module, "--smoke", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def janus_unavailable() -> str | None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "Janus runs in a network namespace: needs root and iproute2"
    from bench.janus import ensure_installed

    return ensure_installed()


def test_cpu_per_packet_measures_videoroom_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "cpu_per_packet.json"
    stdout = run_bench("bench.cpu_per_packet", "--systems", "videoroom", "--out", str(out))
    assert "videoroom: marginal" in stdout
    points = json.loads(out.read_text())["points"]
    assert [p["participants"] for p in points] == [2, 3]
    for point in points:
        assert point["bots_failed"] == []
        assert point["received"]["packets"] > 0
        assert point["server_us_per_forwarded_packet"] > 0
    plot = tmp_path / "cpu.png"
    run_plot = subprocess.run(
        [sys.executable, "-m", "bench.plot", "--input", str(out), "--output", str(plot)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run_plot.returncode == 0, run_plot.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = subprocess.run(
        [sys.executable, "-m", "bench.report", "--dir", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    assert "| videoroom | 2 |" in report.stdout


def test_compare_videoroom_with_the_transcoding_baseline() -> None:
    stdout = run_bench("bench.compare", "--systems", "videoroom,transcode")
    assert "videoroom/transcode: CPU per forwarded packet" in stdout


def test_compare_with_janus_prints_ratios() -> None:
    reason = janus_unavailable()
    if reason:
        pytest.skip(f"Janus unavailable: {reason}")
    stdout = run_bench("bench.compare", "--systems", "videoroom,janus")
    assert "videoroom/janus: CPU per forwarded packet" in stdout


def test_join_time_times_probe_joins() -> None:
    stdout = run_bench("bench.join_time", "--systems", "videoroom")
    row = next(line for line in stdout.splitlines() if line.startswith("videoroom"))
    assert row.split()[2] == "2"  # both probe joins ran


def test_capacity_checks_a_small_room() -> None:
    stdout = run_bench("bench.capacity")
    assert "videoroom: largest passing room" in stdout


def test_memory_reports_megabytes_per_peer() -> None:
    stdout = run_bench("bench.memory", "--systems", "videoroom")
    assert "MB per peer" in stdout


def test_hostile_runs_every_scenario_and_prints_its_figures() -> None:
    stdout = run_bench("bench.hostile")
    for scenario in ("offer", "metadata", "squat", "joinflood", "theft", "nan", "surrogate"):
        assert any(line.startswith(f"{scenario} ") for line in stdout.splitlines()), stdout
    assert "heartbeat RTT p50" in stdout
    assert "daphne RSS" in stdout
