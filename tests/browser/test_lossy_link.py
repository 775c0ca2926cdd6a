"""Video keeps decoding over a lossy, slow link; the SFU answers NACKs from its history.

"Lossy" opens the project's page relay-only (``?relay=1``), and its TURN server is reached
through a relay that drops and delays every datagram both ways (netem in user space,
tests/support/impaired_relay.py: this kernel has no sch_netem), so all of its media
crosses the bad link; "Clear" joins directly. Over a measured window the test reads each
receiver's inbound video stats, then ends the lossy participant's subscriptions and reads
how many packets the worker retransmitted to it (the Outlet's log line). Figures are
printed and recorded in docs/benchmarks.md ("Lossy links").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shortuuid
from playwright.sync_api import Browser

from tests.browser.link_media import join_relay_only, retransmitted_to, server_behind_relay
from tests.browser.room_page import Participant, join_room
from tests.support.daphne import DaphneServer
from tests.support.impaired_relay import ImpairedUdpRelay

pytestmark = pytest.mark.browser

MEASURE_SECONDS = 30.0
# Each way: (delay in seconds, loss probability).
LINKS = {"clean": (0.0, 0.0), "lossy": (0.1, 0.05)}

VIDEO_STATS_JS = """
async () => {
  const pc = window.videoroom?.visit?.client.connection;
  const out = { inbound: null, outbound: null };
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.kind !== "video") return;
    if (s.type === "inbound-rtp") out.inbound = {
      framesDecoded: s.framesDecoded ?? 0, packetsReceived: s.packetsReceived ?? 0,
      packetsLost: s.packetsLost ?? 0, nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0,
      freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0 };
    if (s.type === "outbound-rtp") out.outbound = {
      packetsSent: s.packetsSent ?? 0, nackCount: s.nackCount ?? 0,
      retransmittedPacketsSent: s.retransmittedPacketsSent ?? 0 };
  });
  return out;
}
"""


@pytest.fixture(scope="module", params=list(LINKS))
def link(
    request: pytest.FixtureRequest, frontend_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, ImpairedUdpRelay, DaphneServer]]:
    name = request.param
    delay, loss = LINKS[name]
    workdir = tmp_path_factory.mktemp(f"link-{name}")
    with server_behind_relay(workdir, delay=delay, loss=loss) as (relay, daphne):
        yield name, relay, daphne


def video_stats(person: Participant) -> dict[str, Any]:
    result: dict[str, Any] = person.page.evaluate(VIDEO_STATS_JS)
    return result


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after}


def test_video_keeps_decoding_and_nacks_are_answered(
    link: tuple[str, ImpairedUdpRelay, DaphneServer], browser: Browser
) -> None:
    name, relay, daphne = link
    room = "link-" + shortuuid.uuid()[:8]
    lossy = join_relay_only(browser, daphne.origin, room, "Lossy")
    clear = join_room(browser, daphne.origin, room, "Clear")
    try:
        lossy.wait_for_videos_from(["Clear"], timeout_ms=90_000)
        clear.wait_for_videos_from(["Lossy"], timeout_ms=90_000)
        time.sleep(3)  # past the first key frames
        before = {p.name: video_stats(p) for p in (lossy, clear)}
        relayed, dropped = relay.relayed, relay.dropped
        time.sleep(MEASURE_SECONDS)
        after = {p.name: video_stats(p) for p in (lossy, clear)}
        relayed, dropped = relay.relayed - relayed, relay.dropped - dropped
        lossy_id = lossy.page.evaluate("() => window.videoroom.visit.client.state.selfId")
        lossy.page.get_by_role("button", name="Leave").click()
        clear.wait_for_no_tile("Lossy", timeout_ms=30_000)
        time.sleep(1)
        retransmitted = retransmitted_to(daphne, lossy_id)
    finally:
        lossy.close()
        clear.close()

    delay, loss = LINKS[name]
    figures: dict[str, Any] = {
        "link": name,
        "each_way": {"delay_ms": delay * 1000, "loss_pct": loss * 100},
        "seconds": MEASURE_SECONDS,
        "datagrams": {"relayed": relayed, "dropped": dropped},
    }
    for person, stats in after.items():
        inbound = delta(stats["inbound"], before[person]["inbound"])
        outbound = delta(stats["outbound"], before[person]["outbound"])
        expected = inbound["packetsReceived"] + inbound["packetsLost"]
        figures[person] = {
            "decoded_fps": round(inbound["framesDecoded"] / MEASURE_SECONDS, 1),
            "residual_loss_pct": round(100 * inbound["packetsLost"] / expected, 2)
            if expected
            else None,
            "nacks_sent": inbound["nackCount"],
            "plis_sent": inbound["pliCount"],
            "freezes": inbound["freezeCount"],
            "freeze_seconds": round(inbound["totalFreezesDuration"], 2),
            "nacks_received_as_publisher": outbound["nackCount"],
            "retransmitted_as_publisher": outbound["retransmittedPacketsSent"],
        }
    figures["worker_retransmitted_to_Lossy"] = retransmitted
    print(f"\nlossy-link figures: {json.dumps(figures)}")

    for person in ("Lossy", "Clear"):
        assert figures[person]["decoded_fps"] >= 10, figures
    if name == "lossy":
        # The lossy subscriber asked for lost packets and the worker resent them from history.
        assert figures["Lossy"]["nacks_sent"] > 0, figures
        assert retransmitted > 0, figures
        # The lossy publisher's lost packets were asked for by the worker and sent again.
        assert figures["Lossy"]["nacks_received_as_publisher"] > 0, figures
