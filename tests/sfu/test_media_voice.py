"""Who is speaking, end to end in one process: an aiortc publisher's audio levels (RFC 6464,
written by its Opus sender) reach the worker, whose detector tells the subscribers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sfu.client import MediaClient, SpeakingAudioTrack
from tests.sfu.conftest import Harness, settle

pytestmark = pytest.mark.media

MICROPHONE = {"type": "microphone", "active": True}


def voice(client: MediaClient) -> list[dict[str, Any]]:
    """The vadNotification payloads a client received, in order."""
    return [
        e["data"]["data"]
        for e in client.events
        if e["type"] == "custom" and e["data"]["type"] == "vadNotification"
    ]


async def test_a_subscriber_hears_speech_then_silence_of_the_publishers_track(
    harness: Harness,
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    microphone = SpeakingAudioTrack()
    track_id = await alice.publish(microphone, MICROPHONE)
    await settle(lambda: len(voice(bob)) >= 1, 40)
    assert voice(bob) == [{"trackId": track_id, "status": "speech"}]
    microphone.loud = False
    await settle(lambda: len(voice(bob)) >= 2, 40)
    assert voice(bob) == [
        {"trackId": track_id, "status": "speech"},
        {"trackId": track_id, "status": "silence"},
    ]
    assert voice(alice) == []  # subscribers only: the publisher's page has its own levels
