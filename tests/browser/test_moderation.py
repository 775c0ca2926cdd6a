"""Moderators in Chromium: a participant whose signed join token has the moderate grant mutes
and removes another, and everyone sees it; nobody else has the controls, and a moderator event
forged on a raw socket is refused."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.room_page import Participant, join_room
from tests.multiprocess.client import PhoenixSocket, ok
from tests.support.cluster import ROOT, Cluster

pytestmark = pytest.mark.browser

TILE_MODERATION_JS = """
(label) => {
  const tile = [...document.querySelectorAll('.tile')]
    .find((t) => t.querySelector('.tile-label').textContent === label);
  return tile ? { mic: tile.dataset.micModerated === 'true', video: tile.dataset.videoModerated === 'true',
                  badge: tile.querySelector('.tile-moderated').hidden ? '' :
                         tile.querySelector('.tile-moderated').textContent } : null;
}
"""


def moderator_token(cluster: Cluster, room: str, name: str) -> str:
    """What a host application hands its moderator: ``manage.py roomtoken --moderator``."""
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "roomtoken",
            room,
            "--identity",
            name.lower(),
            "--name",
            name,
            "--moderator",
        ],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def moderation_of(person: Participant, label: str) -> dict[str, Any] | None:
    result: dict[str, Any] | None = person.page.evaluate(TILE_MODERATION_JS, label)
    return result


def wait_for_moderation(person: Participant, label: str, predicate_js: str) -> None:
    person.page.wait_for_function(
        f"(label) => {{ const t = ({TILE_MODERATION_JS})(label); return t !== null && ({predicate_js})(t); }}",
        arg=label,
        timeout=20_000,
    )


def test_a_moderator_mutes_and_removes_a_participant_and_everyone_sees_it(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    token = moderator_token(cluster, room_name, "Mod")
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    participants.append(join_room(browser, base_url, room_name, "Mod", fragment=f"token={token}"))
    ann, bob, mod = participants
    mod.wait_for_videos_from(["Ann", "Bob"])
    bob.wait_for_videos_from(["Ann", "Mod"])

    # Only the moderator has the controls.
    expect(mod.page.get_by_role("button", name="Mute microphone of Ann")).to_be_visible()
    for person in (ann, bob):
        expect(person.page.locator(".tile-moderation button:visible")).to_have_count(0)

    mod.page.get_by_role("button", name="Mute camera of Ann").click()
    for person in (bob, mod):
        wait_for_moderation(person, "Ann", "t => t.video && !t.mic")
        person.wait_for_tile("Ann", "t => t.cameraOff")
    assert moderation_of(bob, "Ann") == {
        "mic": False,
        "video": True,
        "badge": "video muted by a moderator",
    }
    mod.page.get_by_role("button", name="Mute microphone of Ann").click()
    wait_for_moderation(bob, "Ann", "t => t.video && t.mic")
    bob.wait_for_tile("Ann", "t => t.micMuted")

    mod.page.get_by_role("button", name="Unmute camera of Ann").click()
    wait_for_moderation(bob, "Ann", "t => !t.video && t.mic")
    bob.wait_for_tile("Ann", "t => !t.cameraOff && t.videoWidth > 0")
    before = bob.frames_decoded()
    bob.page.wait_for_function(
        "(n) => window.videoroom.visit.client.connection.getStats().then((stats) => {"
        " let frames = 0; stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video')"
        " frames += s.framesDecoded ?? 0; }); return frames > n; })",
        arg=before + 30,
        timeout=45_000,
    )

    mod.page.get_by_role("button", name="Remove Ann from the room").click()
    expect(ann.page.get_by_role("alert")).to_contain_text(
        "A moderator removed you from the room", timeout=20_000
    )
    assert ann.status() == "closed"
    expect(ann.page.get_by_role("button", name="Join again")).to_be_hidden()
    for person in (bob, mod):
        person.wait_for_no_tile("Ann")
        assert person.status() == "connected"
    joins = ann.joins_sent()
    ann.page.wait_for_timeout(3_000)
    assert ann.joins_sent() == joins, "a removed participant does not rejoin"


async def forge(socket_url: str, origin: str, room: str, target_label: str) -> dict[str, Any]:
    """Join as a plain participant on a raw socket and send moderator events; what came back."""
    topic = f"room:{room}"
    socket = await PhoenixSocket.open(socket_url, origin, "eve")
    try:
        assert ok(await socket.join(topic, "Eve"))
        join_ref = socket.join_refs[topic]

        async def media_event(event: dict[str, Any]) -> None:
            payload = {"data": json.dumps(event)}
            await socket.send([join_ref, socket.next_ref(), topic, "mediaEvent", payload])

        def pushed() -> list[dict[str, Any]]:
            return [
                json.loads(frame[4]["data"])
                for frame in socket.frames
                if frame[2] == topic and frame[3] == "mediaEvent"
            ]

        await media_event({"type": "connect", "data": {"metadata": {"displayName": "Eve"}}})
        await socket.wait_frame(topic, "mediaEvent")
        [connected] = [e for e in pushed() if e["type"] == "connected"]
        [target] = [
            e
            for e in connected["data"]["otherEndpoints"]
            if e["metadata"].get("displayName") == target_label
        ]
        track_id = next(iter(target["tracks"]))
        for inner in (
            {
                "type": "moderateTrack",
                "data": {"peerId": target["id"], "trackId": track_id, "muted": True},
            },
            {"type": "removePeer", "data": {"peerId": target["id"]}},
        ):
            await media_event({"type": "custom", "data": inner})
        for _ in range(100):
            errors = [e["data"]["message"] for e in pushed() if e["type"] == "error"]
            if len(errors) >= 2:
                break
            await asyncio.sleep(0.1)
        return {"errors": errors, "still_joined": socket.still_joined(topic)}
    finally:
        await socket.close()


def test_a_forged_moderator_event_from_a_raw_socket_is_refused(
    browser: Browser,
    base_url: str,
    cluster: Cluster,
    room_name: str,
    participants: list[Participant],
) -> None:
    participants.append(join_room(browser, base_url, room_name, "Ann"))
    participants.append(join_room(browser, base_url, room_name, "Bob"))
    ann, bob = participants
    bob.wait_for_videos_from(["Ann"])
    web = cluster.webs[0]
    # The sync Playwright API owns this thread's event loop: the raw socket gets a thread.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, forge(web.socket_url, base_url, room_name, "Ann")).result(
            timeout=120
        )
    assert result["errors"] == ["not allowed to moderate (no moderate grant)"] * 2
    assert result["still_joined"]
    assert ann.status() == "connected"
    assert moderation_of(bob, "Ann") == {"mic": False, "video": False, "badge": ""}
    bob.wait_for_tile("Ann", "t => !t.cameraOff && !t.micMuted")
