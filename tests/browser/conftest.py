"""Fixtures for the real-browser suite: the built frontend, one cluster, one Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shortuuid
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.browser.room_page import CHROMIUM_ARGS, CHROMIUM_PATH, Participant
from tests.support.cluster import Cluster, running_cluster

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
# A test run leaves the checkout clean: screenshots go to test-artifacts/ (ignored by git)
# unless VIDEOROOM_REFRESH_SCREENSHOTS=1 asks for the ones in docs/ to be refreshed.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("VIDEOROOM_REFRESH_SCREENSHOTS") == "1"
    else ROOT / "test-artifacts" / "screenshots"
)

TILES_SUMMARY_JS = """
() => [...document.querySelectorAll('.tile')].map((t) =>
  `${t.querySelector('.tile-label').textContent} w=${t.querySelector('video').videoWidth} `
  + `mic=${t.dataset.micMuted} cam=${t.dataset.cameraOff}`)
"""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """frontend/dist, built here when scripts/test.sh has not built it already."""
    dist = FRONTEND / "dist"
    if not (dist / "room.js").exists():
        if not (FRONTEND / "node_modules").exists() or shutil.which("npm") is None:
            pytest.fail("frontend/dist is missing: run `npm ci && npm run build` in frontend/")
        subprocess.run(["npm", "run", "--silent", "build"], cwd=FRONTEND, check=True, timeout=300)
    return dist


@pytest.fixture(scope="module")
def cluster(frontend_dist: Path) -> Iterator[Cluster]:
    """One daphne and two room workers on a private redis-server."""
    with running_cluster(webs=1, workers=2) as running:
        yield running


@pytest.fixture
def base_url(cluster: Cluster) -> str:
    return cluster.webs[0].http_url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The one Playwright of the session: its sync API runs an event loop in this thread
    for as long as it is open, so a second ``sync_playwright()`` would refuse to start."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"no chromium at {CHROMIUM_PATH}")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def room_name() -> str:
    return "b-" + shortuuid.uuid()[:10]


@pytest.fixture
def participants(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[list[Participant]]:
    """Participants a test opens; closed after it, with the cluster's logs on failure."""
    opened: list[Participant] = []
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for participant in opened:
            print(f"----- {participant.name}: status {participant.status()!r}")
            print(f"  tiles: {participant.page.evaluate(TILES_SUMMARY_JS)}")
            print(f"  inbound: {participant.inbound()}")
        print(f"\n----- cluster logs ({cluster.workdir}) -----\n{cluster.logs()}")
    for participant in opened:
        participant.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
