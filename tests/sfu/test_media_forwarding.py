"""Real aiortc peers through a Room: negotiation and passthrough forwarding."""

from __future__ import annotations

from typing import Any

import pytest
from aiortc.codecs import opus, vpx

from tests.sfu.client import EncodedVideoTrack
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

CAMERA = {"type": "camera", "active": True}


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
