"""Grants and moderator actions with real aiortc peers: what is forwarded, to whom, and when."""

from __future__ import annotations

import asyncio
import json

import pytest

from rooms.grants import PARTICIPANT, Grant
from rooms.messages import RemovalReason
from rooms.sfu.forwarding import Publication
from rooms.sfu.room import NO_PUBLISH_GRANT
from tests.sfu.client import EncodedAudioTrack, EncodedVideoTrack, MediaClient
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}
MICROPHONE = {"type": "microphone", "active": True}
MODERATOR = PARTICIPANT | {Grant.MODERATE}
# Frames in flight when a mute lands (sent before it, still crossing the loopback): 30 fps
# video is ~3 frames in 100 ms; a whole second leaves room for a loaded machine.
IN_FLIGHT_SECONDS = 1.0
# Long enough for ~45 frames at 30 fps: a forwarded frame would show.
QUIET_SECONDS = 1.5


async def moderate(client: MediaClient, peer_id: str, track_id: str, *, muted: bool) -> None:
    await client.send(
        "moderateTrack", {"peerId": peer_id, "trackId": track_id, "muted": muted}, custom=True
    )


def publication(harness: Harness, peer_id: str, track_id: str) -> Publication:
    source = harness.room._members[peer_id].published[track_id].source
    assert isinstance(source, Publication)
    return source


def frames(client: MediaClient, track_id: str) -> int:
    return len(client.received.get(track_id, []))


def frame_index(frame: bytes) -> int:
    """The publisher's frame number, as tests.sfu.client.vp8_frame writes it."""
    return int.from_bytes(frame[1:5], "big")


def errors(client: MediaClient) -> list[str]:
    return [e["data"]["message"] for e in client.events if e["type"] == "error"]


async def test_a_mute_stops_the_track_for_everyone_and_an_unmute_restarts_it_on_a_key_frame(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    carol = await harness.client("carol")
    mod = await harness.client("mod", MODERATOR)
    camera, microphone = EncodedVideoTrack(), EncodedAudioTrack()
    video_id = alice.add_track(camera, CAMERA)
    audio_id = await alice.publish(microphone, MICROPHONE)
    watchers = (bob, carol, mod)
    await settle(lambda: all(frames(c, video_id) >= 30 for c in watchers))

    await moderate(mod, "alice", video_id, muted=True)
    await asyncio.sleep(IN_FLIGHT_SECONDS)
    muted_from = len(camera.sent)  # the publisher's frames from here on are muted ones
    before = {c.peer_id: frames(c, video_id) for c in watchers}
    audio_before = frames(bob, audio_id)
    await asyncio.sleep(QUIET_SECONDS)
    # A receiver's jitter buffer may still hold the last frame or two sent before the mute
    # (aiortc's releases a frame when the next one begins): counts, not frame indexes, here.
    assert {c.peer_id: frames(c, video_id) for c in watchers} == before, "nothing forwarded"
    assert frames(bob, audio_id) > audio_before + 20, "the unmuted microphone still flows"
    for client in (bob, carol):
        [update] = [e["data"] for e in client.events if e["type"] == "trackUpdated"]
        assert update == {
            "endpointId": "alice",
            "trackId": video_id,
            "metadata": {**CAMERA, "mutedBy": "moderator"},
        }

    requests, unmuted_from = camera.keyframe_requests, len(camera.sent)
    await moderate(mod, "alice", video_id, muted=False)
    await settle(lambda: all(frames(c, video_id) >= before[c.peer_id] + 30 for c in watchers))
    assert camera.keyframe_requests > requests, "the unmute asked the publisher for a key frame"
    for client in watchers:
        after = [f for f in client.received[video_id] if frame_index(f) >= muted_from]
        assert all(frame_index(f) >= unmuted_from for f in after), "a muted frame was forwarded"
        assert after[0][0] & 1 == 0, f"{client.peer_id}: the stream resumed on a key frame"
    assert publication(harness, "alice", video_id).muted is False
    assert [r.kind.value for r in harness.outbox.moderations] == ["mute_track", "unmute_track"]


async def test_a_forged_mute_from_a_peer_without_the_grant_changes_nothing(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    video_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: frames(bob, video_id) >= 30)
    await moderate(bob, "alice", video_id, muted=True)
    count = frames(bob, video_id)
    await settle(lambda: frames(bob, video_id) >= count + 30)
    assert publication(harness, "alice", video_id).muted is False
    await settle(lambda: errors(bob) == ["not allowed to moderate (no moderate grant)"])
    assert harness.outbox.moderations == []


async def test_a_peer_without_publish_gets_an_error_and_nobody_receives_its_track(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    video_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    viewer = await harness.client("viewer", frozenset({Grant.SUBSCRIBE}))
    await settle(lambda: frames(viewer, video_id) >= 30, timeout=20)
    own_id = await viewer.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: errors(viewer) == [NO_PUBLISH_GRANT])
    await asyncio.sleep(QUIET_SECONDS)
    assert "viewer" not in [
        e["data"]["endpointId"] for e in alice.events if e["type"] == "tracksAdded"
    ]
    assert frames(alice, own_id) == 0
    assert harness.room._members["viewer"].published == {}


async def test_a_peer_without_subscribe_is_sent_no_media_but_publishes(harness: Harness) -> None:
    alice = await harness.client("alice")
    video_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    blind = await harness.client("blind", frozenset({Grant.PUBLISH}))
    own_id = await blind.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: frames(alice, own_id) >= 30)
    assert frames(blind, video_id) == 0 and blind.remote_tracks == {}
    assert publication(harness, "alice", video_id).subscriber_count == 0
    assert "tracksAdded" not in [e["type"] for e in blind.events]


async def test_a_removed_peer_loses_its_connection_and_its_subscriptions(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    mod = await harness.client("mod", MODERATOR)
    video_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: frames(bob, video_id) >= 10 and frames(mod, video_id) >= 10)
    assert publication(harness, "alice", video_id).subscriber_count == 2
    await mod.send("removePeer", {"peerId": "bob"}, custom=True)
    assert harness.outbox.left == [("bob", RemovalReason.REMOVED_BY_MODERATOR)]
    assert publication(harness, "alice", video_id).subscriber_count == 1
    await settle(lambda: bob.events[-1]["type"] == "endpointRemoved")
    assert json.dumps(bob.events[-1]["data"]) == '{"id": "bob", "reason": "removed_by_moderator"}'
    assert "bob" not in [p.peer_id for p in harness.room.peers]
