"""The room page and the join policies: the PIN prompt, and a token in the URL."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.room_page import UI_TIMEOUT_MS, Participant, join_room
from tests.support.cluster import Cluster

pytestmark = pytest.mark.browser

PIN = "482913"


def test_a_pin_room_asks_for_the_pin_says_when_it_is_wrong_and_joins_with_the_right_one(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    cluster.manage("createroom", room_name, "--policy", "pin", "--pin", PIN)
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    ann = participants[0]
    page = ann.page
    pin_box = page.get_by_label("Room PIN")
    expect(pin_box).to_be_visible(timeout=30_000)
    expect(page.locator("#pin-message")).to_contain_text("needs a PIN")
    assert ann.status() == "needsPin"

    pin_box.fill("000000")
    page.get_by_role("button", name="Join with this PIN").click()
    expect(page.locator("#pin-message")).to_contain_text("not right", timeout=30_000)
    expect(pin_box).to_have_value("")

    pin_box.fill(PIN)
    page.get_by_role("button", name="Join with this PIN").click()
    ann.wait_for_status("connected")
    expect(page.locator("#pin-prompt")).to_be_hidden(timeout=UI_TIMEOUT_MS)
    # Three joins: none, the wrong PIN, the right one; the PIN went as the `pin` param.
    joins = [frame for frame in ann.sent_frames if '"phx_join"' in frame]
    assert len(joins) == 3
    assert '"pin"' not in joins[0] and '"pin":"000000"' in joins[1] and f'"pin":"{PIN}"' in joins[2]


def test_a_token_in_the_url_admits_the_page_and_leaves_the_address_bar(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    cluster.manage("createroom", room_name, "--policy", "token")
    token = cluster.manage(
        "roomtoken", room_name, "--identity", "ann-1", "--name", "Ann From Token"
    ).strip()
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    bob = participants[0]
    expect(bob.page.get_by_role("alert")).to_contain_text("invitation only", timeout=30_000)
    assert bob.status() == "failed"

    participants.append(
        join_room(browser, base_url, room_name, "Ann", query=f"token={quote(token)}&relay=0")
    )
    ann = participants[1]
    ann.wait_for_status("connected")
    assert "token" not in ann.page.url and ann.page.url.endswith("?relay=0")
    joins = [frame for frame in ann.sent_frames if '"phx_join"' in frame]
    assert token in joins[0]
