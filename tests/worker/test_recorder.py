"""The participation recorder against the real database: order, retries, bounds, no blocking."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from django.db import OperationalError

from rooms import services
from rooms.messages import JoinRefusal, RemovalReason
from rooms.models import Participation, Room
from rooms.roomtypes import PeerInfo
from rooms.worker.recorder import ParticipationRecorder

pytestmark = pytest.mark.django_db(transaction=True)


def peer(peer_id: str, name: str = "Ann") -> PeerInfo:
    return PeerInfo(peer_id, f"peer.x!{peer_id}", name, joined_at=datetime.now(UTC))


class ScriptedStore:
    """rooms.services, but failing the first ``failures`` writes or blocking until released."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RuntimeError("database is locked")
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def record_join(
        self, room: str, peer_id: str, display_name: str, joined_at: datetime, identity: str
    ) -> None:
        self.calls += 1
        self.release.wait(10)
        if self.failures:
            self.failures -= 1
            raise self.error
        services.record_join(room, peer_id, display_name, joined_at, identity)

    def record_leave(self, room: str, peer_id: str, reason: RemovalReason) -> None:
        services.record_leave(room, peer_id, reason)

    def close_dangling_participations(self, room: str) -> int:
        return services.close_dangling_participations(room)

    def record_refusal(
        self, room: str, peer_id: str, display_name: str, reason: JoinRefusal
    ) -> None:
        services.record_refusal(room, peer_id, display_name, reason)


@pytest.fixture
async def alpha() -> Room:
    return await Room.objects.acreate(name="alpha")


@pytest.fixture
async def recorder() -> AsyncIterator[ParticipationRecorder]:
    made = ParticipationRecorder(backlog=100, first_backoff=0.01)
    made.start()
    yield made
    await made.stop()


async def test_a_join_and_its_leave_handed_over_at_once_are_written_in_order(
    alpha: Room, recorder: ParticipationRecorder
) -> None:
    for index in range(20):
        recorder.joined("alpha", peer(f"p{index}"))
        recorder.left("alpha", f"p{index}", RemovalReason.LEFT)
    await recorder.flush()
    stays = [p async for p in Participation.objects.filter(room=alpha)]
    assert len(stays) == 20
    assert all(p.left_at is not None and p.leave_reason == "left" for p in stays)


async def test_a_display_name_no_database_can_store_is_coerced_not_lost(
    alpha: Room, recorder: ParticipationRecorder
) -> None:
    recorder.joined("alpha", peer("p1", "Ann\ud800\x00" + "x" * 300))
    await recorder.flush()
    stay = await Participation.objects.aget(peer_id="p1")
    assert stay.display_name == "Ann?" + "x" * 96


async def test_the_cleanup_of_a_new_room_never_closes_its_own_joins(
    alpha: Room, recorder: ParticipationRecorder
) -> None:
    await Participation.objects.acreate(
        room=alpha, peer_id="lost", display_name="Old", joined_at=datetime.now(UTC)
    )
    recorder.cleanup("alpha")
    recorder.joined("alpha", peer("new"))
    await recorder.flush()
    lost = await Participation.objects.aget(peer_id="lost")
    new = await Participation.objects.aget(peer_id="new")
    assert lost.leave_reason == "worker_lost"
    assert new.left_at is None


async def test_a_failed_write_is_retried_with_backoff(alpha: Room) -> None:
    store = ScriptedStore(failures=2)
    recorder = ParticipationRecorder(backlog=100, store=store, first_backoff=0.01)
    recorder.start()
    try:
        recorder.joined("alpha", peer("p1"))
        await recorder.flush()
    finally:
        await recorder.stop()
    assert store.calls == 3
    assert await Participation.objects.filter(peer_id="p1").aexists()


async def test_a_write_that_keeps_failing_is_given_up_with_one_line_and_the_rest_go_on(
    alpha: Room, caplog: pytest.LogCaptureFixture
) -> None:
    store = ScriptedStore(failures=4)
    recorder = ParticipationRecorder(backlog=100, store=store, attempts=4, first_backoff=0.01)
    recorder.start()
    try:
        with caplog.at_level(logging.WARNING, logger="rooms.worker.recorder"):
            recorder.joined("alpha", peer("doomed"))
            recorder.joined("alpha", peer("fine"))
            await recorder.flush()
    finally:
        await recorder.stop()
    assert [r.getMessage() for r in caplog.records] == [
        "room alpha peer doomed: join not recorded after 4 attempts: "
        "RuntimeError('database is locked')"
    ]
    assert [p.peer_id async for p in Participation.objects.all()] == ["fine"]


async def test_a_database_outage_loses_no_record_and_is_logged_once_at_each_end(
    alpha: Room, caplog: pytest.LogCaptureFixture
) -> None:
    """Twice as many failed writes as a refused record gets attempts: still written, in order."""
    store = ScriptedStore(failures=8, error=OperationalError("could not connect to server"))
    recorder = ParticipationRecorder(
        backlog=100, store=store, attempts=4, first_backoff=0.01, max_backoff=0.05
    )
    recorder.start()
    try:
        with caplog.at_level(logging.INFO, logger="rooms.worker.recorder"):
            recorder.joined("alpha", peer("p1"))
            recorder.joined("alpha", peer("p2"))
            recorder.left("alpha", "p1", RemovalReason.LEFT)
            await recorder.flush()
    finally:
        await recorder.stop()
    assert store.calls == 8 + 2
    stays = {p.peer_id: p async for p in Participation.objects.all()}
    assert sorted(stays) == ["p1", "p2"]
    assert stays["p1"].leave_reason == "left" and stays["p2"].left_at is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0] == (
        "participation recorder: database unavailable (OperationalError: could not connect "
        "to server), retrying; 3 records waiting"
    )
    assert lines[1].startswith("participation recorder: database back after ")
    assert lines[1].endswith(", 2 records still to write")


async def test_a_blocked_database_never_blocks_the_event_loop(alpha: Room) -> None:
    store = ScriptedStore()
    store.release.clear()
    recorder = ParticipationRecorder(backlog=100, store=store)
    recorder.start()
    try:
        started = time.monotonic()
        for index in range(50):
            recorder.joined("alpha", peer(f"p{index}"))
        assert time.monotonic() - started < 0.1
        # The loop keeps running other work while the write is stuck in the database.
        ticks = 0
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10
        assert store.calls == 1
    finally:
        store.release.set()
        await recorder.stop()
    assert await Participation.objects.acount() == 50


async def test_past_its_backlog_the_recorder_drops_new_records_with_a_log_line(
    alpha: Room, caplog: pytest.LogCaptureFixture
) -> None:
    store = ScriptedStore()
    store.release.clear()
    recorder = ParticipationRecorder(backlog=3, store=store)
    recorder.start()
    try:
        with caplog.at_level(logging.WARNING, logger="rooms.worker.recorder"):
            recorder.joined("alpha", peer("p0"))
            await asyncio.sleep(0.05)  # p0 is in the thread; p1..p3 fill the backlog
            for index in range(1, 10):
                recorder.joined("alpha", peer(f"p{index}"))
        assert len([r for r in caplog.records if "backlog full" in r.getMessage()]) == 1
    finally:
        store.release.set()
        await recorder.stop()
    assert await Participation.objects.acount() == 4


async def test_stop_writes_what_is_queued_and_ends_the_thread(alpha: Room) -> None:
    recorder = ParticipationRecorder(backlog=100)
    recorder.start()
    recorder.joined("alpha", peer("p1"))
    recorder.left("alpha", "p1", RemovalReason.WORKER_SHUTDOWN)
    await recorder.stop()
    stay = await Participation.objects.aget(peer_id="p1")
    assert stay.leave_reason == "worker_shutdown"
    await asyncio.sleep(0.1)
    assert not [t for t in threading.enumerate() if t.name.startswith("participation-recorder")]
