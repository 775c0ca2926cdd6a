"""Real aiortc peers through a Room: negotiation and RTP forwarding."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, VideoStreamTrack
from aiortc.codecs import opus, vpx

from rooms.sfu import forwarding
from tests.sfu.client import EncodedAudioTrack, EncodedVideoTrack, MediaClient
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}
MICROPHONE = {"type": "microphone", "active": True}


@pytest.fixture
def codec_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts every aiortc encode/decode in the process."""
    calls = {"encode": 0, "decode": 0}

    def counting(name: str, original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    for cls in (vpx.Vp8Encoder, opus.OpusEncoder):
        monkeypatch.setattr(cls, "encode", counting("encode", cls.encode))
    for cls in (vpx.Vp8Decoder, opus.OpusDecoder):
        monkeypatch.setattr(cls, "decode", counting("decode", cls.decode))
    return calls


async def test_subscriber_receives_the_publishers_encoded_frames_unchanged(
    harness: Harness, codec_calls: dict[str, int]
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    camera = EncodedVideoTrack()
    track_id = await alice.publish(camera, CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 30)
    got = bob.received[track_id]
    start = camera.sent.index(got[0])
    assert got[0][0] & 1 == 0, "the first forwarded frame is a keyframe"
    assert got[:30] == camera.sent[start : start + 30]
    assert codec_calls == {"encode": 0, "decode": 0}
    assert bob.remote_tracks[track_id]["metadata"] == CAMERA


async def test_opus_packets_are_forwarded_unchanged(
    harness: Harness, codec_calls: dict[str, int]
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    microphone = EncodedAudioTrack()
    track_id = await alice.publish(microphone, {"type": "microphone", "active": True})
    await settle(lambda: len(bob.received.get(track_id, [])) >= 25)
    got = bob.received[track_id]
    start = microphone.sent.index(got[0])
    assert got[:25] == microphone.sent[start : start + 25]
    assert codec_calls == {"encode": 0, "decode": 0}


async def test_real_vp8_from_a_publisher_encoder_decodes_at_the_subscriber(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    bob.encoded = False
    track_id = await alice.publish(VideoStreamTrack(), CAMERA)  # aiortc encodes VP8 at alice
    await settle(lambda: len(bob.received.get(track_id, [])) >= 10, 40)
    assert set(bob.received[track_id]) == {b"640x480"}


async def test_answer_maps_every_mid_to_a_track(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: bob.answers >= 1 and alice.answers >= 1)
    assert list(alice.mid_to_track_id.values()) == [track_id]
    assert list(bob.mid_to_track_id.values()) == [track_id]
    assert "custom:offerData" in bob.types()
    assert bob.types().index("tracksAdded") < bob.types().index("custom:sdpAnswer")


async def test_late_joiner_gets_a_keyframe_first(harness: Harness) -> None:
    alice = await harness.client("alice")
    camera = EncodedVideoTrack()
    track_id = await alice.publish(camera, CAMERA)
    bob = await harness.client("bob")
    await settle(lambda: len(bob.received.get(track_id, [])) >= 5)
    carol = await harness.client("carol")
    await settle(lambda: len(carol.received.get(track_id, [])) >= 5)
    for client in (bob, carol):
        assert client.received[track_id][0][0] & 1 == 0
    # carol's first keyframe was asked for: the publisher saw a PLI after the first keyframe.
    assert camera.keyframe_requests >= 1


async def test_subscriber_plis_reach_the_publisher_rate_limited(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    camera = EncodedVideoTrack()
    track_id = await alice.publish(camera, CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 10)
    await asyncio.sleep(1.5)  # let the join-time keyframe request age out of the window
    assert bob.pc is not None
    receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.kind == "video")
    ssrc = receiver.getSynchronizationSources()[0].source
    before = camera.keyframe_requests
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(10):  # 10 PLIs in about 0.5 s
        await receiver._send_rtcp_pli(ssrc)
        await asyncio.sleep(0.05)
    await settle(lambda: camera.keyframe_requests > before)
    await asyncio.sleep(0.4)
    relayed = camera.keyframe_requests - before
    # Each PLI is answered by a keyframe, so the limit is the shorter interval: at most one
    # per started half second of the burst (1-2 on an idle machine), never all 10.
    allowed = int((loop.time() - started) / forwarding.ANSWERED_KEYFRAME_INTERVAL) + 1
    assert 1 <= relayed <= min(allowed, 9), (relayed, allowed)


async def test_screen_share_added_and_removed_mid_call(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    camera_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(camera_id, [])) >= 5)
    screen_id = await alice.publish(EncodedVideoTrack(), {"type": "screensharing", "active": True})
    await settle(lambda: len(bob.received.get(screen_id, [])) >= 5)
    assert set(bob.remote_tracks) == {camera_id, screen_id}
    answers = bob.answers
    await alice.unpublish(screen_id)
    await settle(lambda: screen_id not in bob.remote_tracks and bob.answers > answers)
    removed = [e for e in bob.events if e["type"] == "tracksRemoved"]
    assert removed[-1]["data"] == {"endpointId": "alice", "trackIds": [screen_id]}
    # Every m-line stays mapped, the removed ones included (Membrane's midToTrackId).
    await settle(lambda: alice.answers >= 3)
    assert sorted(alice.mid_to_track_id.values()) == sorted([camera_id, screen_id])
    assert sorted(bob.mid_to_track_id.values()) == sorted([camera_id, screen_id])
    # The slot keeps its m-line, now inactive; the camera keeps flowing.
    sdp = bob.pc.remoteDescription.sdp  # type: ignore[union-attr]
    assert "a=inactive" in sdp
    count = len(bob.received[camera_id])
    await settle(lambda: len(bob.received[camera_id]) > count + 5)


async def test_mute_is_a_track_metadata_update(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    camera_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: camera_id in bob.remote_tracks and alice.answers >= 1)
    await alice.send(
        "updateTrackMetadata",
        {"trackId": camera_id, "trackMetadata": {"type": "camera", "active": False}},
    )
    await settle(lambda: "trackUpdated" in bob.types())
    update = next(e for e in bob.events if e["type"] == "trackUpdated")["data"]
    assert update == {
        "endpointId": "alice",
        "trackId": camera_id,
        "metadata": {"type": "camera", "active": False},
    }


async def test_a_sent_m_line_not_named_in_mid_to_track_id_is_refused(harness: Harness) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(EncodedVideoTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    try:
        await alice.send(
            "sdpOffer",
            {"sdpOffer": {"type": "offer", "sdp": pc.localDescription.sdp}, "midToTrackId": {}},
            custom=True,
        )
        await settle(lambda: "custom:sdpAnswer" in alice.types())
        answer = next(
            e["data"]["data"]
            for e in alice.events
            if e["type"] == "custom" and e["data"]["type"] == "sdpAnswer"
        )
        assert "a=inactive" in answer["sdp"]
        assert answer["midToTrackId"] == {}
        assert "tracksAdded" not in bob.types()
    finally:
        await pc.close()


async def test_late_joiner_receives_every_publisher_from_its_first_offer(harness: Harness) -> None:
    # Carol's first offer carries her own audio and video plus two recvonly m-lines of
    # each kind, as a browser's does; every one must get media.
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    tracks = []
    for publisher in (alice, bob):
        tracks.append(publisher.add_track(EncodedAudioTrack(), MICROPHONE))
        tracks.append(await publisher.publish(EncodedVideoTrack(), CAMERA))
    await settle(lambda: tracks[0] in bob.remote_tracks and tracks[2] in alice.remote_tracks)
    carol = MediaClient(harness.room, "carol")
    harness.outbox.clients["carol"] = carol
    harness.clients.append(carol)
    carol.add_track(EncodedAudioTrack(), MICROPHONE)
    carol.add_track(EncodedVideoTrack(), CAMERA)
    await carol.join()
    await settle(lambda: all(len(carol.received.get(t, [])) >= 5 for t in tracks))
    assert carol.answers == 1, "everything was negotiated in carol's first offer"
    assert sorted(t.kind for t in carol.pc.getTransceivers() if t.direction == "recvonly") == [
        "audio",
        "audio",
        "video",
        "video",
    ]


async def test_sender_reports_describe_the_forwarded_stream(harness: Harness) -> None:
    """The forwarder writes around aiortc's RTP loop; its RTCP sender reports must still count."""
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    track_id = await alice.publish(EncodedVideoTrack(), CAMERA)
    await settle(lambda: len(bob.received.get(track_id, [])) >= 10)
    assert bob.pc is not None
    receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.direction == "recvonly")

    async def reported_packets() -> int:
        stats = await receiver.getStats()
        sent = [s.packetsSent for s in stats.values() if s.type == "remote-outbound-rtp"]
        return max(sent, default=0)

    async def poll() -> int:
        while (count := await reported_packets()) == 0:
            await asyncio.sleep(0.1)
        return count

    # aiortc sends a report every 0.5-1.5 s.
    assert await asyncio.wait_for(poll(), 10) > 0


async def test_a_left_visitors_m_line_carries_the_next_visitors_track(harness: Harness) -> None:
    """Without reuse every visitor would add m-lines to every peer's SDP for good."""
    dave = await harness.client("dave")
    for name in ("v1", "v2", "v3"):
        visitor = await harness.client(name)
        camera = EncodedVideoTrack()
        track_id = await visitor.publish(camera, CAMERA)
        await settle(lambda: len(dave.received.get(track_id, [])) >= 5)  # noqa: B023
        # The test client's jitter buffer releases the previous visitor's last frame only
        # when the next packet arrives, so at most that one frame comes before the keyframe.
        frames = dave.received[track_id]
        start = next(i for i, frame in enumerate(frames) if frame[0] & 1 == 0)
        assert start <= 1, "the reused m-line starts the new track on a keyframe"
        first = camera.sent.index(frames[start])
        assert frames[start:] == camera.sent[first : first + len(frames) - start]
        await visitor.leave()
        await settle(lambda: track_id not in dave.remote_tracks)  # noqa: B023
    assert dave.pc is not None
    video_mlines = [t for t in dave.pc.getTransceivers() if t.kind == "video"]
    assert len(video_mlines) == 1
