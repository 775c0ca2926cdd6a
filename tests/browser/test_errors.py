"""Errors a person understands, and recovery without reloading the page."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.room_page import UI_TIMEOUT_MS, Participant, join_room
from tests.support.cluster import Cluster, kill_hard

pytestmark = pytest.mark.browser

# getUserMedia failing the way a browser fails it, before any page script runs.
DENY_ALL = """
navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException('Permission denied', 'NotAllowedError');
};
"""
NO_CAMERA = """
const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  if (constraints && constraints.video) throw new DOMException('Requested device not found', 'NotFoundError');
  return realGetUserMedia(constraints);
};
"""


def create_room(
    cluster: Cluster, name: str, *, max_participants: int = 12, locked: bool = False
) -> None:
    cluster.manage(
        "shell",
        "-c",
        "from rooms.models import Room; "
        f"Room.objects.create(name={name!r}, max_participants={max_participants}, locked={locked})",
    )


def assert_no_more_joins(person: Participant, seconds: float = 4.0) -> None:
    """The phoenix client's endless rejoin (1 s, 2 s, 5 s...) has been stopped."""
    joins = person.joins_sent()
    time.sleep(seconds)
    assert person.joins_sent() == joins


def test_a_full_room_says_so_and_stops_rejoining(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    create_room(cluster, room_name, max_participants=1)
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants[0].wait_for_status("connected")
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    bob = participants[1]
    expect(bob.page.get_by_role("alert")).to_contain_text("This room is full", timeout=30_000)
    assert bob.status() == "failed"
    assert_no_more_joins(bob)
    assert bob.joins_sent() == 1


def test_a_locked_room_says_so_and_stops_rejoining(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    create_room(cluster, room_name, locked=True)
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    ann = participants[0]
    expect(ann.page.get_by_role("alert")).to_contain_text("locked", timeout=30_000)
    assert_no_more_joins(ann)


def test_denied_camera_and_microphone_still_joins_to_watch_and_listen(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann", init_script=DENY_ALL))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    expect(ann.page.locator("#media-notice")).to_contain_text("denied")
    expect(ann.page.locator("#media-notice")).to_contain_text("watch and listen")
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_tile("Ann", "t => t.micMuted && t.cameraOff")


def test_without_a_camera_joins_with_audio_only(
    browser: Browser, base_url: str, room_name: str, participants: list[Participant]
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann", init_script=NO_CAMERA))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    expect(ann.page.locator("#media-notice")).to_contain_text("Camera: no device was found")
    expect(ann.page.locator("#media-notice")).to_contain_text("audio only")
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_tile("Ann", "t => !t.micMuted && t.cameraOff")


def test_an_unreachable_server_shows_reconnecting_and_recovers(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_videos_from(["Ann"])
    web = cluster.webs[0]
    kill_hard(web)  # every websocket drops without a close frame, as on a network failure
    for person in participants:
        expect(person.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible(
            timeout=20_000
        )
    time.sleep(2)  # a few failed reconnection attempts while the server is unreachable
    cluster.restart_web(web)
    ann.wait_for_videos_from(["Bob"], timeout_ms=60_000)
    bob.wait_for_videos_from(["Ann"], timeout_ms=60_000)
    for person in participants:
        person.wait_for_status("connected")
        expect(person.page.locator("#participants li")).to_have_count(2, timeout=30_000)


@pytest.fixture
def replace_killed_workers(cluster: Cluster) -> Iterator[None]:
    """Brings the cluster back to two workers for the module's later tests."""
    yield
    while len(cluster.live_workers) < 2:
        cluster.start_worker()


# Media back for every participant within 5 s of the owner worker's death (issue 16):
# about 1.5 s to notice a kill -9 (docs/architecture.md), then the page's immediate
# rejoin, a claim on the live worker, the join, ICE and DTLS, and the first key frame.
# Measured 2.1-3.4 s after a kill -9 and 0.6-1.9 s after a SIGTERM at load 5-11, once
# 5.7 s (docs/benchmarks.md); the 2 s above the requirement are for a machine shared
# five ways. Before issue 16 a kill -9 took 9.3-12.2 s.
MEDIA_BACK_DEADLINE_SECONDS = 5.0 + 2.0


def seconds_until_media_back(
    participants: list[Participant], since: float, timeout: float = 60.0
) -> dict[str, float]:
    """Per participant, seconds from ``since`` until video from all the others decodes
    on a new peer connection. Polled every 50 ms, so the figures are that much late at most."""
    back: dict[str, float] = {}
    deadline = since + timeout
    while len(back) < len(participants):
        assert time.monotonic() < deadline, f"media back only for {sorted(back)}"
        for person in participants:
            others = [p.name for p in participants if p is not person]
            if person.name not in back and person.media_back(others):
                back[person.name] = time.monotonic() - since
        time.sleep(0.05)
    return back


@pytest.mark.parametrize("death", ["kill -9", "SIGTERM"])
def test_a_dead_room_worker_costs_its_participants_under_five_seconds_of_media(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
    replace_killed_workers: None,
    death: str,
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    ann.wait_for_videos_from(["Bob"])
    bob.wait_for_videos_from(["Ann"])
    for person in participants:
        person.mark_connection()
    owner = next(w for w in cluster.live_workers if f"room {room_name} created" in w.log())
    died_at = time.monotonic()
    if death == "kill -9":
        kill_hard(owner)
    else:
        owner.signal(signal.SIGTERM)
    back = seconds_until_media_back(participants, died_at)
    figures = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sorted(back.items()))
    print(f"{death} of the owner worker: media back for {figures}")
    assert max(back.values()) <= MEDIA_BACK_DEADLINE_SECONDS, figures
    # Each sees itself and the other once: no ghost of the dead room's peers.
    for person in participants:
        assert person.status() == "connected"
        expect(person.page.locator("#participants li")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    assert owner.wait(30) in (0, -signal.SIGKILL)


def run_admin_action(cluster: Cluster, call: str) -> None:
    """What the admin's buttons do, from a manage.py shell on the cluster's Redis."""
    cluster.manage(
        "shell",
        "-c",
        f"from asgiref.sync import async_to_sync; from rooms import admin_actions; {call}",
    )


def test_a_kicked_participant_is_told_and_not_rejoined(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    ann.wait_for_videos_from(["Bob"])
    bob_id = bob.page.evaluate("() => window.videoroom.visit.client.state.selfId")
    run_admin_action(
        cluster, f"async_to_sync(admin_actions.kick_participant)({room_name!r}, {bob_id!r})"
    )
    expect(bob.page.get_by_role("alert")).to_contain_text("removed", timeout=20_000)
    assert bob.status() == "closed"
    ann.wait_for_no_tile("Bob")
    assert ann.status() == "connected"
    assert_no_more_joins(bob, seconds=3)


def test_closing_the_room_ends_it_for_everyone(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, _ = participants
    ann.wait_for_videos_from(["Bob"])
    run_admin_action(cluster, f"async_to_sync(admin_actions.close_room)({room_name!r})")
    for person in participants:
        expect(person.page.get_by_role("alert")).to_contain_text("closed", timeout=20_000)
        assert person.status() == "closed"
