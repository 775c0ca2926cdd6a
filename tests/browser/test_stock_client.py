"""The stock Membrane client, unmodified from npm, in a room with the project's page.

Two `@jellyfish-dev/membrane-webrtc-js` participants (one version per run, wired as the
Membrane videoroom's room.ts: no join params, name in `connect` metadata, relay-only ICE
with only the `integratedTurnServers` of the first offerData) and one participant on the
project's page with `?relay=1`, all through a private coturn, against one daphne with
its embedded room worker.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import shortuuid
from playwright.sync_api import Browser

from tests.browser.room_page import CHROMIUM_ARGS, Participant, new_context
from tests.browser.stock_page import (
    VERSIONS,
    StockParticipant,
    build_bundles,
    open_stock,
    wait_rising,
)
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne
from tests.support.turn_server import TurnServer, running_turn

pytestmark = pytest.mark.browser

assert "--use-fake-device-for-media-stream" in CHROMIUM_ARGS


@pytest.fixture(scope="module")
def stock_dist() -> Path:
    return build_bundles()


@pytest.fixture(scope="module")
def turn() -> Iterator[TurnServer]:
    if shutil.which("turnserver") is None:
        pytest.fail("coturn is missing: scripts/test.sh installs it")
    with running_turn() as server:
        yield server


@pytest.fixture(scope="module")
def server(
    turn: TurnServer, frontend_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaphneServer]:
    workdir = tmp_path_factory.mktemp("stock-client")
    env = embedded_env(
        workdir / "db.sqlite3",
        TURN_URLS=",".join(turn.urls),
        TURN_SECRET=turn.secret,
        TURN_TTL_SECONDS="600",
        # The worker's candidates: loopback, reached by coturn's relay (allow-loopback-peers).
        ICE_HOST_ADDRESSES="127.0.0.1",
        STUN_URLS="",
    )
    manage(env, "migrate", "--noinput")
    with running_daphne(env, workdir / "daphne.log") as daphne:
        yield daphne


def join_project_page(browser: Browser, base_url: str, room: str, name: str) -> Participant:
    """The project's page, relay-only (?relay=1), as in room_page.join_room."""
    context = new_context(browser, base_url)
    page = context.new_page()
    page.goto(f"/room/{room}?relay=1")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join room").click()
    return Participant(name, context, page, [])


@pytest.fixture
def opened(
    request: pytest.FixtureRequest, server: DaphneServer, turn: TurnServer
) -> Iterator[list[StockParticipant | Participant]]:
    pages: list[StockParticipant | Participant] = []
    yield pages
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for person in pages:
            if isinstance(person, StockParticipant):
                print(f"----- {person.name}: {person.observed()} {person.inbound()}")
            else:
                print(f"----- {person.name}: {person.status()} {person.inbound()}")
        print(f"----- daphne\n{server.log()}\n----- coturn\n{turn.log()}")
    for person in pages:
        person.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_stock_clients_and_the_project_page_see_and_hear_each_other_through_turn(
    version: str,
    browser: Browser,
    server: DaphneServer,
    turn: TurnServer,
    stock_dist: Path,
    opened: list[StockParticipant | Participant],
) -> None:
    room = "stock-" + shortuuid.uuid()[:8]
    base = server.origin
    ann = join_project_page(browser, base, room, "Ann")
    opened.append(ann)
    amy = open_stock(browser, base, stock_dist, version, room, "Amy", meta="empty")
    opened.append(amy)
    bo = open_stock(browser, base, stock_dist, version, room, "Bo", meta="custom")
    opened.append(bo)

    for stock in (amy, bo):
        wait_rising(stock.inbound, "video", "framesDecoded", 2, stock.name)
        wait_rising(stock.inbound, "audio", "packetsReceived", 2, stock.name)
        observed = stock.observed()
        assert observed["errors"] == []
        # The client's own configuration: relay only, servers from integratedTurnServers.
        config = observed["configs"][0]
        assert config["iceTransportPolicy"] == "relay"
        urls = sorted(server["urls"] for server in config["iceServers"])
        assert urls == sorted(turn.urls)
        assert (stock.selected_local_candidate() or {}).get("candidateType") == "relay"
        names = sorted(observed["endpoints"].values())
        assert names == sorted({"Ann", "Amy", "Bo"} - {stock.name})

    # The project's page plays both stock cameras (their `{}` audio is not taken for one)
    # and plays their microphones.
    ann.wait_for_videos_from(["Amy", "Bo"])
    wait_rising(ann.inbound, "video", "framesDecoded", 2, "Ann")
    wait_rising(ann.inbound, "audio", "packetsReceived", 2, "Ann")
    assert ann.page.evaluate("() => document.querySelectorAll('#audio-sinks audio').length") == 2

    bo_id = bo.observed()["endpointId"]
    bo.leave()
    ann.wait_for_no_tile("Bo")
    amy.page.wait_for_function(
        "(id) => window.stock.observed.removedEndpoints.includes(id)", arg=bo_id, timeout=20_000
    )
    assert sorted(amy.observed()["endpoints"].values()) == ["Ann"]
    # Amy still receives Ann's video after Bo's m-lines went inactive.
    wait_rising(amy.inbound, "video", "framesDecoded", 1, "Amy after Bo left")
