"""Video comes back within 2 s of a subscriber's link coming back from a 2 s outage.

"Cut" opens the project's page relay-only, through a relay (tests/support/impaired_relay.py)
that drops every datagram both ways for ``OUTAGE_SECONDS``; "Clear" joins directly. After
the link is back the test polls Cut's decoded frames of Clear's camera (its downlink: the
worker forwarded into the void for 2 s) and Clear's decoded frames of Cut's camera (Cut's
uplink) until each rises again, and counts what brought it back: the PLIs and NACKs the
receivers sent, the PLIs and key frames the publisher got and made, the packets the worker
resent. Issue 11 asks for recovery within 2 s; figures are printed and recorded in
docs/benchmarks.md ("Lossy links").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import shortuuid
from playwright.sync_api import Browser

from tests.browser.link_media import (
    delta,
    inbound_mids,
    join_relay_only,
    leave,
    outbound,
    retransmitted_to,
    self_id,
    server_behind_relay,
    streams,
)
from tests.browser.room_page import Participant, join_room
from tests.support.daphne import DaphneServer
from tests.support.impaired_relay import ImpairedUdpRelay

pytestmark = pytest.mark.browser

OUTAGE_SECONDS = 2.0
RUNS = 3
# Issue 11: decoding again within 2 s of the link's return.
RECOVERY_LIMIT_SECONDS = 2.0
# How long to wait for a recovery before calling it failed (well past the limit, so a slow
# recovery is measured, not just reported as missing).
GIVE_UP_SECONDS = 15.0
POLL_SECONDS = 0.05


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ImpairedUdpRelay, DaphneServer]]:
    with server_behind_relay(tmp_path_factory.mktemp("outage")) as running:
        yield running


def decoded(person: Participant, mid_key: str) -> float:
    return streams(person).get(mid_key, {}).get("framesDecoded", 0)


def wait_for_recovery(
    watched: list[tuple[str, Participant, str]], restored: float
) -> dict[str, float | None]:
    """Seconds from ``restored`` until each watched stream decodes a frame again."""
    start = {label: decoded(person, key) for label, person, key in watched}
    recovered: dict[str, float | None] = {label: None for label, _, _ in watched}
    while time.monotonic() - restored < GIVE_UP_SECONDS:
        for label, person, key in watched:
            if recovered[label] is None and decoded(person, key) > start[label]:
                recovered[label] = round(time.monotonic() - restored, 2)
        if all(value is not None for value in recovered.values()):
            break
        time.sleep(POLL_SECONDS)
    return recovered


def test_video_recovers_within_two_seconds_of_an_outage_ending(
    server: tuple[ImpairedUdpRelay, DaphneServer], browser: Browser
) -> None:
    relay, daphne = server
    room = "cut-" + shortuuid.uuid()[:8]
    cut = join_relay_only(browser, daphne.origin, room, "Cut")
    clear = join_room(browser, daphne.origin, room, "Clear")
    runs: list[dict[str, Any]] = []
    try:
        cut.wait_for_videos_from(["Clear"], timeout_ms=90_000)
        clear.wait_for_videos_from(["Cut"], timeout_ms=90_000)
        time.sleep(3)  # past the first key frames
        (cut_in,) = inbound_mids(cut)  # Clear's camera at Cut
        (clear_in,) = inbound_mids(clear)  # Cut's camera at Clear
        for run in range(1, RUNS + 1):
            before = {p.name: streams(p) for p in (cut, clear)}
            relay.outage = True
            time.sleep(OUTAGE_SECONDS)
            relay.outage = False
            restored = time.monotonic()
            # The stream that a frame stalls on first: Cut's downlink, then its uplink.
            frames_before = decoded(cut, cut_in)
            recovered = wait_for_recovery(
                [("downlink", cut, cut_in), ("uplink", clear, clear_in)], restored
            )
            time.sleep(max(0.0, restored + 3.0 - time.monotonic()))
            after = {p.name: streams(p) for p in (cut, clear)}
            down = delta(after["Cut"][cut_in], before["Cut"][cut_in])
            up = delta(after["Clear"][clear_in], before["Clear"][clear_in])
            clear_out = delta(outbound(after["Clear"]), outbound(before["Clear"]))
            cut_out = delta(outbound(after["Cut"]), outbound(before["Cut"]))
            runs.append(
                {
                    "run": run,
                    "recovery_s": recovered,
                    "frames_decoded_in_3s": after["Cut"][cut_in]["framesDecoded"] - frames_before,
                    "downlink": {
                        "plis_sent_by_Cut": down["pliCount"],
                        "nacks_sent_by_Cut": down["nackCount"],
                        "key_frames_decoded": down["keyFramesDecoded"],
                        "freezes": down["freezeCount"],
                        "freeze_s": round(down["totalFreezesDuration"], 2),
                        "plis_received_by_Clear": clear_out["pliCount"],
                        "key_frames_sent_by_Clear": clear_out["keyFramesEncoded"],
                    },
                    "uplink": {
                        "plis_sent_by_Clear": up["pliCount"],
                        "nacks_sent_by_Clear": up["nackCount"],
                        "key_frames_decoded": up["keyFramesDecoded"],
                        "plis_received_by_Cut": cut_out["pliCount"],
                        "key_frames_sent_by_Cut": cut_out["keyFramesEncoded"],
                        "nacks_received_by_Cut": cut_out["nackCount"],
                    },
                }
            )
            time.sleep(5)  # a steady stream again before the next cut
        cut_id = self_id(cut)
        leave(cut)
        clear.wait_for_no_tile("Cut", timeout_ms=30_000)
        time.sleep(1)
        retransmitted = retransmitted_to(daphne, cut_id)
    finally:
        cut.close()
        clear.close()

    figures = {
        "outage_s": OUTAGE_SECONDS,
        "runs": runs,
        "worker_retransmitted_to_Cut": retransmitted,
        "datagrams": {"relayed": relay.relayed, "dropped": relay.dropped},
    }
    print(f"\nlink-outage figures: {json.dumps(figures)}")
    for entry in runs:
        for way, seconds in entry["recovery_s"].items():
            assert seconds is not None and seconds < RECOVERY_LIMIT_SECONDS, (way, figures)
