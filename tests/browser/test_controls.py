"""Microphone, camera, screen share, pin and leave, as the others see them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.room_page import Participant, join_room

pytestmark = pytest.mark.browser

Pair = tuple[Participant, Participant]


@pytest.fixture
def ann_and_bob(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> Pair:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_videos_from(["Ann"])
    return ann, bob


def test_muting_the_microphone_shows_a_muted_indicator_to_others(ann_and_bob: Pair) -> None:
    ann, bob = ann_and_bob
    mic = ann.page.get_by_role("button", name="Mute microphone")
    mic.focus()
    ann.page.keyboard.press("Space")  # keyboard operable
    expect(ann.page.get_by_role("button", name="Unmute microphone")).to_be_visible()
    bob.wait_for_tile("Ann", "t => t.micMuted")
    ann.wait_for_tile("You (Ann)", "t => t.micMuted")
    expect(bob.page.get_by_role("img", name="microphone muted")).to_be_visible()

    ann.page.get_by_role("button", name="Unmute microphone").click()
    bob.wait_for_tile("Ann", "t => !t.micMuted")


def test_turning_the_camera_off_shows_camera_off_to_others(ann_and_bob: Pair) -> None:
    ann, bob = ann_and_bob
    ann.page.get_by_role("button", name="Turn camera off").click()
    bob.wait_for_tile("Ann", "t => t.cameraOff")
    ann.wait_for_tile("You (Ann)", "t => t.cameraOff")
    ann.page.get_by_role("button", name="Turn camera on").click()
    bob.wait_for_tile("Ann", "t => !t.cameraOff")


def start_screen_share(ann: Participant, bob: Participant) -> None:
    ann.page.get_by_role("button", name="Share screen").click()
    expect(ann.page.get_by_role("button", name="Stop sharing")).to_be_visible(timeout=20_000)
    ann.wait_for_tile("Your screen")
    bob.wait_for_tile("Ann (screen)", "t => t.kind === 'screen' && t.videoWidth > 0", 45_000)


def test_a_screen_share_is_its_own_tile_until_stopped(ann_and_bob: Pair) -> None:
    ann, bob = ann_and_bob
    start_screen_share(ann, bob)
    ann.page.get_by_role("button", name="Stop sharing").click()
    bob.wait_for_no_tile("Ann (screen)")
    ann.wait_for_no_tile("Your screen")
    expect(ann.page.get_by_role("button", name="Share screen")).to_be_visible()


def test_stopping_from_the_browsers_sharing_bar_ends_the_share(ann_and_bob: Pair) -> None:
    ann, bob = ann_and_bob
    start_screen_share(ann, bob)
    # What the browser's "Stop sharing" bar does: the track ends without our button.
    ann.page.evaluate(
        """() => {
          const track = window.videoroom.visit.client.localTrack('screensharing').track;
          track.stop();
          track.dispatchEvent(new Event('ended'));
        }"""
    )
    bob.wait_for_no_tile("Ann (screen)")
    expect(ann.page.get_by_role("button", name="Share screen")).to_be_visible()


def test_pinning_a_tile_shows_it_large_and_first(ann_and_bob: Pair) -> None:
    ann, _ = ann_and_bob
    pin = ann.page.get_by_role("button", name="Pin Bob")
    pin.focus()
    ann.page.keyboard.press("Enter")
    ann.wait_for_tile("Bob", "t => t.pinned")
    first_label = ann.page.locator(".tile").first.locator(".tile-label")
    expect(first_label).to_have_text("Bob")
    size: Callable[[str], float] = lambda label: ann.page.evaluate(  # noqa: E731
        """(label) => [...document.querySelectorAll('.tile')]
             .find((t) => t.querySelector('.tile-label').textContent === label)
             .getBoundingClientRect().width""",
        label,
    )
    assert size("Bob") > 1.5 * size("You (Ann)")
    ann.page.get_by_role("button", name="Unpin Bob").click()
    ann.wait_for_tile("Bob", "t => !t.pinned")


def test_leaving_removes_you_from_the_others_view(ann_and_bob: Pair) -> None:
    ann, bob = ann_and_bob
    ann.page.get_by_role("button", name="Leave").click()
    expect(ann.page.get_by_role("alert")).to_have_text("You left the room.")
    bob.wait_for_no_tile("Ann")
    expect(bob.page.locator("#participants li")).to_have_count(1)

    ann.page.get_by_role("button", name="Join again").click()
    bob.wait_for_videos_from(["Ann"])
    ann.wait_for_videos_from(["Bob"])
