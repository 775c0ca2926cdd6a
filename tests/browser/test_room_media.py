"""Participants see and hear each other through the SFU, in real Chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser

from tests.browser.room_page import Participant, join_room

pytestmark = pytest.mark.browser


def wait_rising_frames(person: Participant, streams: int, timeout_s: float = 30.0) -> None:
    """Until `streams` inbound video streams decode frames and their total keeps rising."""
    deadline = time.monotonic() + timeout_s
    while True:
        videos = [s for s in person.inbound() if s["kind"] == "video" and s["framesDecoded"] > 0]
        if len(videos) >= streams:
            before = sum(s["framesDecoded"] for s in videos)
            time.sleep(1.5)
            after = person.frames_decoded()
            if after > before:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"{person.name}: video not decoding: {person.inbound()}")
        time.sleep(0.5)


def test_three_participants_see_each_others_video(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    names = ["Ann", "Bob", "Cy"]
    for name in names:
        participants.append(join_room(browser, base_url, room_name, name))
    for person in participants:
        others = [n for n in names if n != person.name]
        person.wait_for_videos_from(others)
        wait_rising_frames(person, streams=2)
        assert person.status() == "connected"
        assert person.tile(f"You ({person.name})") is not None


def test_participants_receive_each_others_audio(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_videos_from(["Ann"])
    for person in participants:
        person.page.wait_for_function(
            "() => document.querySelectorAll('#audio-sinks audio').length === 1",
            timeout=20_000,
        )
        deadline = time.monotonic() + 20
        while True:
            audio = [s for s in person.inbound() if s["kind"] == "audio"]
            if audio and audio[0]["packetsReceived"] > 20:
                break
            assert time.monotonic() < deadline, f"{person.name}: no audio packets: {audio}"
            time.sleep(0.5)


def test_participants_list_names_everyone(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann = participants[0]
    # Bob is listed as soon as he joins, muted until his tracks arrive.
    ann.page.wait_for_function(
        """() => [...document.querySelectorAll('#participants li')].map((li) => li.textContent)
                 .join('|') === 'Ann (you)|Bob'""",
        timeout=30_000,
    )
    assert ann.page.locator("#participant-count").text_content() == "2"


def test_a_speaking_participant_is_highlighted(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    # Chromium's fake microphone beeps about once a second: loud enough to count as speech.
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, _ = participants
    ann.wait_for_videos_from(["Bob"])
    ann.wait_for_tile("Bob", "t => t.speaking", timeout_ms=30_000)
    ann.wait_for_tile("You (Ann)", "t => t.speaking", timeout_ms=30_000)


TRANSCEIVERS_JS = "() => window.videoroom?.visit?.client.connection?.getTransceivers().length ?? 0"


def test_a_newcomer_gets_the_m_lines_a_leaver_left(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    ann = join_room(browser, base_url, room_name, "Ann")
    participants.append(ann)
    bob = join_room(browser, base_url, room_name, "Bob")
    participants.append(bob)
    ann.wait_for_videos_from(["Bob"])
    transceivers = ann.page.evaluate(TRANSCEIVERS_JS)
    bob.page.get_by_role("button", name="Leave").click()
    ann.wait_for_no_tile("Bob")
    cy = join_room(browser, base_url, room_name, "Cy")
    participants.append(cy)
    ann.wait_for_videos_from(["Cy"])
    wait_rising_frames(ann, streams=1)
    # Cy's camera and microphone arrive on the m-lines Bob's left behind.
    assert ann.page.evaluate(TRANSCEIVERS_JS) == transceivers
