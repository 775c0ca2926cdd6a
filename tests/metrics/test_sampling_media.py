"""The worker's sampler on real aiortc peers in one process: counts, loss and round trip."""

from __future__ import annotations

import asyncio

import pytest

from rooms.metrics.figures import with_rates
from rooms.metrics.sampling import PeerFigures, Totals, WorkerSample, sample_worker
from tests.sfu.client import EncodedAudioTrack, EncodedVideoTrack
from tests.sfu.conftest import Harness, harness, media_config, settle  # noqa: F401  (fixtures)

pytestmark = pytest.mark.media


async def test_sampler_reads_packets_tracks_rates_and_the_subscribers_reports(
    harness: Harness,  # noqa: F811
) -> None:
    alice = await harness.client("alice")
    bob = await harness.client("bob")
    video = await alice.publish(EncodedVideoTrack(), {"type": "camera"})
    await alice.publish(EncodedAudioTrack(), {"type": "microphone"})
    await settle(lambda: len(bob.received.get(video, [])) >= 30)
    rooms = {harness.room.name: harness.room}
    totals = Totals()
    first = await sample_worker(rooms, totals)
    assert (first.rooms, first.peers) == (1, 2)
    assert first.published == {"audio": 1, "video": 1}
    assert first.subscribed == {"audio": 1, "video": 1}
    assert first.totals["received_packets"] > 0 and first.totals["forwarded_packets"] > 0
    assert first.totals["keyframe_requests"] >= 1  # bob's subscription asked for one

    # aiortc receivers send a receiver report about every second: bob's says what he got.
    async def reported() -> tuple[WorkerSample, PeerFigures]:
        while True:
            await asyncio.sleep(0.5)
            sample = await sample_worker(rooms, totals)
            bob_figures = next(f for f in sample.figures if f.peer_id == "bob")
            if bob_figures.round_trip_seconds is not None:
                return sample, bob_figures

    later, bob_figures = await asyncio.wait_for(reported(), 15)
    assert bob_figures.round_trip_seconds is not None
    assert 0 <= bob_figures.round_trip_seconds < 1
    assert bob_figures.fraction_lost == 0
    for name in ("received_packets", "forwarded_packets", "forwarded_bytes"):
        assert later.totals[name] > first.totals[name]
    rated = with_rates(later.figures, {(f.room, f.peer_id): f for f in first.figures})
    assert rated[("testroom", "alice")].bitrate_in and rated[("testroom", "bob")].bitrate_out
