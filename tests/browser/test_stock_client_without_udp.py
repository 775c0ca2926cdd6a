"""Stock Membrane clients on a network that blocks UDP: media through TURN over TCP.

Chromium runs in a network namespace whose only way out is a veth pair and whose iptables
drops every UDP datagram it sends (tests/netns/namespace.py). The server offers only
``turn:<host>:<port>?transport=tcp``, which reaches the clients as transport ``"tcp"`` in
``integratedTurnServers``. A 0.5.3 and a 0.7.1 participant, both unmodified from npm and
relay-only, must see and hear each other over relay candidates allocated through TCP.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import shortuuid
from playwright.sync_api import Browser, Playwright

from tests.browser.room_page import CHROMIUM_ARGS, CHROMIUM_PATH
from tests.browser.stock_page import StockParticipant, build_bundles, open_stock, wait_rising
from tests.netns.udp_blocked import UdpBlockedSite, udp_blocked_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UdpBlockedSite]:
    with udp_blocked_site(tmp_path_factory.mktemp("stock-tcp")) as blocked:
        yield blocked


@pytest.fixture(scope="module")
def namespaced_browser(
    site: UdpBlockedSite, tmp_path_factory: pytest.TempPathFactory, playwright: Playwright
) -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"no chromium at {CHROMIUM_PATH}")
    ns, daphne = site.ns, site.daphne
    wrapper = tmp_path_factory.mktemp("chromium") / "chromium-in-namespace"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(ns.command(CHROMIUM_PATH))} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    # http://10.77.x.1 is not a secure context: getUserMedia needs this exception.
    args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={daphne.origin}"]
    launched = playwright.chromium.launch(executable_path=str(wrapper), args=args)
    yield launched
    launched.close()


def test_stock_clients_without_udp_get_media_through_turn_over_tcp(
    site: UdpBlockedSite, namespaced_browser: Browser
) -> None:
    daphne = site.daphne
    dist = build_bundles()
    room = "tcp-" + shortuuid.uuid()[:8]
    opened: list[StockParticipant] = []
    try:
        for version, name in (("0.5.3", "Old"), ("0.7.1", "New")):
            opened.append(
                open_stock(namespaced_browser, daphne.origin, dist, version, room, name, "empty")
            )
        for stock in opened:
            wait_rising(stock.inbound, "video", "framesDecoded", 1, stock.name, timeout_s=60)
            wait_rising(stock.inbound, "audio", "packetsReceived", 1, stock.name)
            observed = stock.observed()
            assert observed["errors"] == []
            servers = observed["configs"][0]["iceServers"]
            assert [s["urls"] for s in servers] == [site.turn_url]
            candidate = stock.selected_local_candidate() or {}
            assert candidate.get("candidateType") == "relay", candidate
            assert candidate.get("relayProtocol") == "tcp", candidate
    except AssertionError:
        for stock in opened:
            print(f"----- {stock.name}: {stock.observed()} {stock.inbound()}")
        print(f"----- daphne\n{daphne.log()}\n----- coturn\n{site.turn.log()}")
        raise
    finally:
        for stock in opened:
            stock.close()
    site.assert_udp_blocked()
