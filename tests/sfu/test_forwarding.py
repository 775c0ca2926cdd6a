"""Keyframe gating and keyframe-request rate limiting, without a peer connection."""

from __future__ import annotations

import asyncio
import fractions

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.sfu import forwarding
from rooms.sfu.forwarding import Publication
from tests.sfu.conftest import settle


class QueueTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[av.Packet | None] = asyncio.Queue()

    async def recv(self) -> av.Packet:
        packet = await self.queue.get()
        if packet is None:
            raise MediaStreamError
        return packet


def packet(index: int, *, key: bool) -> av.Packet:
    p = av.Packet(bytes([0x10 if key else 0x11, index]))
    p.pts = index * 3000
    p.time_base = fractions.Fraction(1, 90000)
    p.is_keyframe = key
    return p


class PliCounter:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def publication() -> tuple[Publication, QueueTrack, PliCounter]:
    source, plis = QueueTrack(), PliCounter()
    pub = Publication("p:1", "video", source, plis)
    pub.start()
    yield pub, source, plis
    await pub.close()


async def test_deltas_are_held_back_until_the_first_keyframe(publication: tuple) -> None:
    pub, source, _ = publication
    sub = pub.subscribe()
    first = asyncio.ensure_future(sub.recv())
    await asyncio.sleep(0)
    for i, key in enumerate([False, False, True, False]):
        source.queue.put_nowait(packet(i, key=key))
    got = [await first, await sub.recv()]
    assert [bytes(p)[1] for p in got] == [2, 3]
    assert sub.dropped == 2


async def test_a_subscriber_that_is_not_read_yet_queues_nothing(publication: tuple) -> None:
    pub, source, _ = publication
    sub = pub.subscribe()
    for i in range(5):
        source.queue.put_nowait(packet(i, key=True))
    await settle(lambda: pub.packets == 5)
    assert sub._queue.qsize() == 0


async def test_keyframe_requests_are_limited_to_one_per_interval(publication: tuple) -> None:
    pub, _, plis = publication
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(20):  # about 0.2 s of requests
        pub.request_keyframe()
        await asyncio.sleep(0.01)
    await settle(lambda: plis.count >= 1)
    await asyncio.sleep(forwarding.KEYFRAME_INTERVAL * 1.5)
    # One now, the rest collapse into one deferred PLI per interval the burst spanned
    # (more than one interval only on a badly loaded machine).
    spanned = int((loop.time() - started) / forwarding.KEYFRAME_INTERVAL)
    assert 2 <= plis.count <= spanned + 1, (plis.count, spanned)


async def test_new_subscriber_asks_for_a_keyframe_when_it_starts_reading(
    publication: tuple,
) -> None:
    pub, _, plis = publication
    sub = pub.subscribe()
    reader = asyncio.ensure_future(sub.recv())
    await settle(lambda: plis.count == 1)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)


async def test_overflow_drops_the_backlog_and_waits_for_a_keyframe(publication: tuple) -> None:
    pub, source, _ = publication
    sub = pub.subscribe()
    reader = asyncio.ensure_future(sub.recv())
    source.queue.put_nowait(packet(0, key=True))
    await reader
    for i in range(forwarding.QUEUE_LIMIT + 1):
        source.queue.put_nowait(packet(i + 1, key=False))
    source.queue.put_nowait(packet(999 % 256, key=False))
    source.queue.put_nowait(packet(7, key=True))
    await settle(lambda: pub.packets == forwarding.QUEUE_LIMIT + 4)
    assert sub._queue.qsize() == 1
    assert (await sub.recv()).is_keyframe


async def test_publisher_end_ends_subscribers(publication: tuple) -> None:
    pub, source, _ = publication
    sub = pub.subscribe()
    reader = asyncio.ensure_future(sub.recv())
    source.queue.put_nowait(None)
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(reader, 5)


async def test_a_keyframe_answers_a_request_deferred_by_the_rate_limit(publication: tuple) -> None:
    pub, source, plis = publication
    pub.request_keyframe()
    await settle(lambda: plis.count == 1)
    pub.request_keyframe()  # deferred: the limit allows the next PLI in an interval
    await source.queue.put(packet(1, key=True))
    await asyncio.sleep(forwarding.KEYFRAME_INTERVAL * 1.5)
    assert plis.count == 1
    # With nothing pending, a later request goes out at once.
    pub.request_keyframe()
    await settle(lambda: plis.count == 2, timeout=0.5)
