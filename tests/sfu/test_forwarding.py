"""Packet fan-out: key-frame gating, renumbering, NACKs, keyframe-request rate limiting.

No peer connection: packets go into ``Publication.on_rtp`` as aiortc's receive tap hands
them over, and subscriptions write to a recording writer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from aiortc.rtp import RtpPacket

from rooms.sfu import forwarding, subscription
from rooms.sfu.forwarding import Publication
from tests.sfu.conftest import settle

KEY = bytes([0x10, 0x00, 0x9D])  # descriptor S=1 PID=0, then a VP8 header with P=0
DELTA = bytes([0x10, 0x01, 0x9D])  # S=1, P=1: the first packet of an inter frame
MIDDLE = bytes([0x00, 0x42])  # a continuation packet (S=0)


@dataclass
class Written:
    sequence: int
    timestamp: int
    marker: bool
    payload: bytes
    padding: int
    resent: bool = False


@dataclass
class RecordingWriter:
    """Stands in for RtpWriter: records what would go on the wire."""

    packets: list[Written] = field(default_factory=list)
    last_sequence: int | None = None
    last_timestamp: int = 0

    def write(self, sequence, timestamp, marker, payload, padding, abs_send_time, ntp):  # type: ignore[no-untyped-def]
        assert len(abs_send_time) == 3 and ntp > 0
        self.packets.append(Written(sequence, timestamp, marker, payload, padding))
        self.last_sequence, self.last_timestamp = sequence, timestamp

    def resend(self, sequence, timestamp, marker, payload, padding, abs_send_time):  # type: ignore[no-untyped-def]
        self.packets.append(Written(sequence, timestamp, marker, payload, padding, resent=True))
        return True

    @property
    def sequences(self) -> list[int]:
        return [p.sequence for p in self.packets]

    @property
    def payloads(self) -> list[bytes]:
        return [p.payload for p in self.packets]


def rtp(
    seq: int, payload: bytes, *, ts: int = 0, ssrc: int = 1111, marker: bool = True
) -> RtpPacket:
    return RtpPacket(
        payload_type=96,
        marker=int(marker),
        sequence_number=seq & 0xFFFF,
        timestamp=ts,
        ssrc=ssrc,
        payload=payload,
    )


class PliCounter:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def video() -> tuple[Publication, PliCounter]:
    plis = PliCounter()
    pub = Publication("p:1", "video", plis)
    yield pub, plis
    await pub.close()


def started(pub: Publication) -> RecordingWriter:
    writer = RecordingWriter()
    pub.subscribe().start(writer)  # type: ignore[arg-type]
    return writer


async def test_video_starts_on_the_first_key_frame_packet(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    for seq, payload in enumerate([DELTA, MIDDLE, KEY, MIDDLE, DELTA], start=100):
        pub.on_rtp(rtp(seq, payload, ts=seq * 3000))
    assert writer.payloads == [KEY, MIDDLE, DELTA]
    first = writer.sequences[0]
    assert writer.sequences == [first, (first + 1) & 0xFFFF, (first + 2) & 0xFFFF]
    stamps = [p.timestamp for p in writer.packets]
    assert [(s - stamps[0]) & 0xFFFFFFFF for s in stamps] == [0, 3000, 6000]


async def test_a_subscription_forwards_nothing_before_its_sender_starts(video: tuple) -> None:
    pub, _ = video
    sub = pub.subscribe()
    pub.on_rtp(rtp(1, KEY))
    writer = RecordingWriter()
    sub.start(writer)  # type: ignore[arg-type]
    pub.on_rtp(rtp(2, DELTA))
    assert writer.packets == []
    assert sub.held_back == 1
    pub.on_rtp(rtp(3, KEY))
    assert writer.payloads == [KEY]


async def test_audio_is_forwarded_from_the_first_packet() -> None:
    pub = Publication("p:a", "audio", PliCounter())
    writer = started(pub)
    pub.on_rtp(rtp(7, b"\x01opus"))
    pub.on_rtp(rtp(8, b"\x02opus"))
    assert writer.payloads == [b"\x01opus", b"\x02opus"]
    assert pub.keyframes_requested == 0
    await pub.close()


async def test_sequence_numbers_stay_continuous_across_the_publishers_wrap(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    for seq in range(65533, 65540):  # 65533 .. 65535, 0 .. 3
        pub.on_rtp(rtp(seq, KEY if seq == 65533 else MIDDLE))
    first = writer.sequences[0]
    assert writer.sequences == [(first + i) & 0xFFFF for i in range(7)]


async def test_reordered_packets_keep_their_place_and_older_ones_are_dropped(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    pub.on_rtp(rtp(10, KEY))
    pub.on_rtp(rtp(12, MIDDLE))
    pub.on_rtp(rtp(11, b"\x00late"))  # reordered, after the start: keeps its number
    pub.on_rtp(rtp(9, b"\x00before"))  # from before this subscriber's first packet
    first = writer.sequences[0]
    assert writer.sequences == [first, (first + 2) & 0xFFFF, (first + 1) & 0xFFFF]
    assert b"\x00before" not in writer.payloads


async def test_a_new_publisher_ssrc_restarts_on_a_key_frame_and_continues_numbering(
    video: tuple,
) -> None:
    pub, _ = video
    writer = started(pub)
    pub.on_rtp(rtp(500, KEY, ts=90000))
    pub.on_rtp(rtp(501, MIDDLE, ts=90000))
    pub.on_rtp(rtp(40000, DELTA, ssrc=2222, ts=5))  # held back: not a key frame
    pub.on_rtp(rtp(40001, KEY, ssrc=2222, ts=3005))
    first = writer.sequences[0]
    assert writer.payloads == [KEY, MIDDLE, KEY]
    assert writer.sequences == [first, (first + 1) & 0xFFFF, (first + 2) & 0xFFFF]
    assert writer.packets[2].timestamp == (writer.packets[1].timestamp + 1800) & 0xFFFFFFFF


async def test_a_packet_received_twice_is_forwarded_once(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    for seq in (30, 31, 31, 32, 30):
        pub.on_rtp(rtp(seq, KEY if seq == 30 else MIDDLE))
    assert len(writer.packets) == 3
    assert pub.duplicates == 2


async def test_a_nack_is_answered_from_the_kept_packets(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    sub = pub._fanout[0]
    for seq, payload in [(20, KEY), (21, b"\x00a"), (22, b"\x00b")]:
        pub.on_rtp(rtp(seq, payload, ts=seq))
    lost = writer.packets[1]
    sub.retransmit(lost.sequence)
    sub.retransmit((writer.sequences[0] - 1) & 0xFFFF)  # before its first packet
    sub.retransmit((writer.sequences[0] + 50) & 0xFFFF)  # never sent
    resent = [p for p in writer.packets if p.resent]
    assert resent == [Written(lost.sequence, lost.timestamp, True, b"\x00a", 0, resent=True)]
    assert sub.retransmitted == 1


async def test_nack_answers_are_bounded_by_a_budget_the_forwarded_packets_refill(
    video: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscription, "RETRANSMIT_BURST", 4.0)
    pub, _ = video
    writer = started(pub)
    sub = pub._fanout[0]
    sub._retransmit_budget = 4.0
    pub.on_rtp(rtp(40, KEY))
    lost = writer.packets[0].sequence
    for _ in range(6):  # a subscriber asking again and again for one packet
        sub.retransmit(lost)
    assert (sub.retransmitted, sub.over_budget) == (4, 2)
    for seq in range(41, 45):  # four forwarded packets earn two retransmissions
        pub.on_rtp(rtp(seq, MIDDLE))
    for _ in range(3):
        sub.retransmit(lost)
    assert (sub.retransmitted, sub.over_budget) == (6, 3)


async def test_padding_only_packets_are_forwarded_with_their_padding() -> None:
    pub = Publication("p:a", "audio", PliCounter())
    writer = started(pub)
    packet = rtp(1, b"")
    packet.padding_size = 200
    pub.on_rtp(packet)
    assert [(p.payload, p.padding) for p in writer.packets] == [(b"", 200)]
    await pub.close()


async def test_a_stopped_subscription_gets_nothing(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    pub._fanout[0].stop()
    pub.on_rtp(rtp(1, KEY))
    assert writer.packets == [] and pub.subscriber_count == 0


async def test_starting_a_video_subscription_asks_for_a_key_frame(video: tuple) -> None:
    pub, plis = video
    started(pub)
    await settle(lambda: plis.count == 1)


async def test_keyframe_requests_are_limited_to_one_per_interval(video: tuple) -> None:
    pub, plis = video
    loop = asyncio.get_running_loop()
    begun = loop.time()
    for _ in range(20):  # about 0.2 s of requests
        pub.request_keyframe()
        await asyncio.sleep(0.01)
    await settle(lambda: plis.count >= 1)
    await asyncio.sleep(forwarding.KEYFRAME_INTERVAL * 1.5)
    # One now, the rest collapse into one deferred PLI per interval the burst spanned
    # (more than one interval only on a badly loaded machine).
    spanned = int((loop.time() - begun) / forwarding.KEYFRAME_INTERVAL)
    assert 2 <= plis.count <= spanned + 1, (plis.count, spanned)


async def test_a_keyframe_answers_a_request_deferred_by_the_rate_limit(video: tuple) -> None:
    pub, plis = video
    pub.request_keyframe()
    await settle(lambda: plis.count == 1)
    pub.request_keyframe()  # deferred: the limit allows the next PLI in an interval
    pub.on_rtp(rtp(1, KEY))
    await asyncio.sleep(forwarding.KEYFRAME_INTERVAL * 1.5)
    assert plis.count == 1
    # With nothing pending, a later request goes out at once.
    pub.request_keyframe()
    await settle(lambda: plis.count == 2, timeout=0.5)


async def test_a_request_after_an_answered_one_waits_only_the_shorter_interval(
    video: tuple,
) -> None:
    pub, plis = video
    pub.request_keyframe()
    await settle(lambda: plis.count == 1)
    pub.on_rtp(rtp(1, KEY))  # the answer
    loop = asyncio.get_running_loop()
    asked = loop.time()
    pub.request_keyframe()  # the next joiner
    await settle(lambda: plis.count == 2)
    assert loop.time() - asked < forwarding.KEYFRAME_INTERVAL * 0.9


async def test_close_detaches_every_subscription(video: tuple) -> None:
    pub, _ = video
    writer = started(pub)
    await pub.close()
    pub.on_rtp(rtp(1, KEY))
    assert writer.packets == [] and pub.subscriber_count == 0


def leveled(seq: int, level: int | None) -> RtpPacket:
    """An audio packet with the RFC 6464 audio level (-dBov) aiortc parsed, or without one."""
    packet = rtp(seq, b"\x01opus", ts=seq * 960)
    if level is not None:
        packet.extensions.audio_level = (False, level)
    return packet


class VoiceLog:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str]] = []

    def __call__(self, endpoint_id: str, track_id: str, status: str) -> None:
        self.changes.append((endpoint_id, track_id, status))


async def talk(pub: Publication, first_seq: int, level: int | None, seconds: float) -> int:
    """Packets at ``level`` spread over ``seconds`` of real time; the next sequence number."""
    seq = first_seq
    for _ in range(2):
        for _ in range(5):
            pub.on_rtp(leveled(seq, level))
            seq += 1
        await asyncio.sleep(seconds / 2)
    for _ in range(5):
        pub.on_rtp(leveled(seq, level))
        seq += 1
    return seq


async def test_audio_levels_report_speech_then_silence_once_each() -> None:
    pub = Publication("p:a", "audio", PliCounter(), endpoint_id="p")
    log = VoiceLog()
    pub.on_voice_activity(log)
    seq = await talk(pub, 1, 20, 0.4)
    assert log.changes == [("p", "p:a", "speech")]
    seq = await talk(pub, seq, 20, 0.4)
    await talk(pub, seq, 100, 1.0)
    assert log.changes == [("p", "p:a", "speech"), ("p", "p:a", "silence")]
    await pub.close()


async def test_audio_packets_without_the_level_extension_report_nothing() -> None:
    pub = Publication("p:a", "audio", PliCounter(), endpoint_id="p")
    log = VoiceLog()
    pub.on_voice_activity(log)
    writer = started(pub)
    await talk(pub, 1, None, 0.4)
    assert log.changes == [] and len(writer.packets) == 15
    await pub.close()


async def test_video_packets_are_not_read_for_levels(video: tuple) -> None:
    pub, _ = video
    log = VoiceLog()
    pub.on_voice_activity(log)
    seq = 1
    for _ in range(3):
        for _ in range(5):
            packet = rtp(seq, KEY)
            packet.extensions.audio_level = (True, 0)
            pub.on_rtp(packet)
            seq += 1
        await asyncio.sleep(0.2)
    assert log.changes == []


async def test_a_moderators_mute_ends_speech_at_once() -> None:
    pub = Publication("p:a", "audio", PliCounter(), endpoint_id="p")
    log = VoiceLog()
    pub.on_voice_activity(log)
    await talk(pub, 1, 20, 0.4)
    pub.set_muted(True)
    assert [status for *_, status in log.changes] == ["speech", "silence"]
    await pub.close()
