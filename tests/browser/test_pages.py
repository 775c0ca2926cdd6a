"""The home page, the room link's name prompt, and the screenshots (docs/screenshots/ on request)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.room_page import PHONE, Participant, join_room, new_context

pytestmark = pytest.mark.browser


def test_home_page_previews_the_camera_and_joins_the_named_room(
    browser: Browser, base_url: str, room_name: str, screenshots_dir: Path
) -> None:
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_function(
            "() => document.getElementById('preview').videoWidth > 0", timeout=20_000
        )
        expect(page.get_by_label("Camera", exact=True).locator("option")).not_to_have_count(0)
        expect(page.get_by_label("Microphone", exact=True).locator("option")).not_to_have_count(0)
        page.get_by_label("Room name").fill(room_name)
        page.get_by_label("Your name").fill("Ann")
        page.screenshot(path=screenshots_dir / "home.png")

        page.get_by_role("button", name="Join room").click()
        page.wait_for_url(f"**/room/{room_name}")
        page.wait_for_function("() => document.body.dataset.roomStatus === 'connected'")
        expect(page.locator("#prejoin")).to_be_hidden()

        page.goto("/")
        expect(page.get_by_label("Your name")).to_have_value("Ann")
    finally:
        context.close()


def test_home_page_explains_an_invalid_room_name(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Room name").fill("not a room!")
        page.get_by_label("Your name").fill("Ann")
        page.get_by_role("button", name="Join room").click()
        expect(page.locator("#room-name-error")).to_contain_text("letters, digits")
        expect(page.get_by_label("Room name")).to_have_attribute("aria-invalid", "true")
        assert page.url.rstrip("/") == base_url
    finally:
        context.close()


def test_a_room_link_asks_for_the_display_name_first(
    browser: Browser, base_url: str, room_name: str
) -> None:
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        page.goto(f"/room/{room_name}")
        name = page.get_by_label("Your name")
        expect(name).to_be_focused()
        expect(page.locator("#room")).to_be_hidden()
        page.get_by_role("button", name="Join room").click()
        expect(page.locator("#display-name-error")).to_contain_text("Enter a name")
        name.fill("Ann")
        page.get_by_role("button", name="Join room").click()
        page.wait_for_function("() => document.body.dataset.roomStatus === 'connected'")
    finally:
        context.close()


def test_four_participants_fill_a_two_by_two_grid(
    browser: Browser,
    base_url: str,
    room_name: str,
    participants: list[Participant],
    screenshots_dir: Path,
) -> None:
    names = ["Ann", "Bob", "Cy", "Dee"]
    for name in names:
        participants.append(join_room(browser, base_url, room_name, name))
    ann = participants[0]
    ann.wait_for_videos_from(names[1:], timeout_ms=90_000)
    assert (
        ann.page.locator("#tiles").evaluate("(g) => g.style.getPropertyValue('--columns')") == "2"
    )
    expect(ann.page.locator("#participants li")).to_have_count(4)
    ann.page.mouse.move(0, 0)
    ann.page.screenshot(path=screenshots_dir / "room-four.png")


def test_the_room_page_fits_a_phone_screen(
    browser: Browser,
    base_url: str,
    room_name: str,
    participants: list[Participant],
    screenshots_dir: Path,
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann", viewport=PHONE))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann = participants[0]
    ann.wait_for_videos_from(["Bob"])
    for name in ["Mute microphone", "Turn camera off", "Share screen", "Leave"]:
        button = ann.page.get_by_role("button", name=name)
        expect(button).to_be_in_viewport()
    width = ann.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    ann.page.screenshot(path=screenshots_dir / "room-phone.png")
