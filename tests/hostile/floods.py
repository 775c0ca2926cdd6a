"""Scenarios where one peer sends a lot, measured at the bystanders (issue 9).

Each ``run_*`` coroutine sets up its bystanders, runs the attack for ``duration`` seconds
and returns what the bystanders saw. The tests (test_hostile_peers.py) assert the issue's
figures on them; ``python -m bench.hostile`` runs them for longer and prints them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.loadgen.stats import percentile
from rooms.strictjson import encoded_size
from tests.hostile.attacks import largest_metadata, largest_offer, metadata_event, offer_event
from tests.hostile.media import FrameRate, FrameRateSampler, stream_of
from tests.hostile.peers import Peers
from tests.hostile.server import load_average, rss_bytes
from tests.hostile.wire import HeartbeatProbe, JoinReply, RawPhoenix

JOIN_PROBE_TIMEOUT_SECONDS = 5.0


@dataclass
class OfferFlood:
    offer_bytes: int
    offer_m_lines: int
    offers_sent: int
    heartbeat_rtts: list[float]  # seconds, one per heartbeat sent during the attack
    joins: list[JoinReply]  # fresh sockets joining other rooms during the attack
    audio: FrameRate  # another room's Opus, frames received per second
    attacker_heard: dict[str, int]  # answers and errors the attacker got, by event type
    load: str

    def rtt(self, q: float) -> float:
        return percentile(self.heartbeat_rtts, q) or 0.0


async def probe_joins(peers: Peers, duration: float, interval: float) -> list[JoinReply]:
    """A fresh socket joins a fresh room every ``interval`` s; each join's reply."""

    async def one(index: int) -> JoinReply:
        phoenix, reply = await peers.join(
            peers.room("probe"), f"probe-{index}", timeout=JOIN_PROBE_TIMEOUT_SECONDS
        )
        await peers.discard(phoenix)
        return reply

    tasks = []
    started = time.monotonic()
    for index in range(max(1, round(duration / interval))):
        tasks.append(peers.spawn(one(index)))
        await asyncio.sleep(max(0.0, started + (index + 1) * interval - time.monotonic()))
    return list(await asyncio.gather(*tasks))


async def run_offer_flood(peers: Peers, duration: float = 10.0) -> OfferFlood:
    """An attacker sends the largest offer allowed once a second; a heartbeat socket in
    room B, joins into new rooms and an audio pair in room C are measured meanwhile."""
    limits = peers.limits
    sdp = await largest_offer(limits)
    bystander = await peers.member(peers.room("bystander"), "bystander")
    audio_room = peers.room("audio")
    speaker = await peers.bots.start("speaker", audio_room, peers.addresses.next(), audio=True)
    listener = await peers.bots.start("listener", audio_room, peers.addresses.next())
    audio = await stream_of(listener, next(iter(speaker.own_tracks)))
    attack_room = peers.room("attack")
    attacker = await peers.member(attack_room, "attacker")
    heartbeats, sampler = HeartbeatProbe(bystander), FrameRateSampler(audio)
    await asyncio.sleep(1.0)  # the listener's first second of audio is not steady yet
    peers.own(heartbeats.start())
    peers.own(sampler.start())
    joins = peers.spawn(probe_joins(peers, duration, 1.0))
    event, sent, started = offer_event(sdp), 0, time.monotonic()
    while time.monotonic() - started < duration:
        await attacker.media_event(f"room:{attack_room}", event)
        sent += 1
        await asyncio.sleep(max(0.0, started + sent - time.monotonic()))
    audio_rate = await sampler.stop()
    rtts = await heartbeats.stop()
    heard = Counter(
        kind
        for kind in attacker.media_event_types(f"room:{attack_room}")
        if kind in ("custom/sdpAnswer", "error")
    )
    return OfferFlood(
        offer_bytes=len(sdp.encode()),
        offer_m_lines=sdp.count("\r\nm="),
        offers_sent=sent,
        heartbeat_rtts=rtts,
        joins=await joins,
        audio=audio_rate,
        attacker_heard=dict(heard),
        load=load_average(),
    )


def _announced(reader: RawPhoenix, topic: str) -> bool:
    return "endpointAdded" in reader.media_event_types(topic)


@dataclass
class MetadataFlood:
    metadata_bytes: int
    events_sent: int
    rss_before: int  # bytes, daphne, once everyone joined
    rss_max: int  # bytes, the most seen during the flood
    cut_after: list[float | None]  # per non-reader: s into the flood its TCP left ESTABLISHED
    close_codes: list[int | None]  # per non-reader: how its stream ended (None: still open)
    refused: list[str]  # errors the sender got (rate limited, too large): updates not sent on
    load: str

    @property
    def rss_growth(self) -> int:
        return self.rss_max - self.rss_before


async def run_metadata_flood(
    peers: Peers, pid: int, duration: float = 15.0, readers: int = 3, drain: float = 10.0
) -> MetadataFlood:
    """``readers`` members stop reading; a fourth sends the largest endpoint metadata
    allowed at the allowed rate. Watches daphne's RSS and the readers' connections."""
    limits = peers.limits
    room = peers.room("memory")
    topic = f"room:{room}"
    # A tiny receive window: the kernel holds little, the server must hold the rest.
    stalled = [
        await peers.member(room, f"non-reader-{i}", receive_buffer=4096) for i in range(readers)
    ]
    sender = await peers.member(room, "sender")
    for reader in stalled:
        await reader.wait_for(partial(_announced, reader, topic), 10)
        # They still write, so the server's idle timeout is not what ends them.
        await reader.pause(heartbeat_every=5.0)
    metadata = largest_metadata(limits, "sender")
    event = metadata_event(metadata)
    rss_before = rss_max = rss_bytes(pid)
    cut_after: list[float | None] = [None] * readers
    # The burst at once, then the sustained rate with 5% to spare (token-bucket edges).
    interval = 1.0 / (limits.media_events_per_second * 0.95)
    sent, started = 0, time.monotonic()
    next_check = started
    while (now := time.monotonic()) - started < duration:
        if (
            sent < limits.media_event_burst
            or now >= started + (sent - limits.media_event_burst) * interval
        ):
            await sender.media_event(topic, event)
            sent += 1
        if now >= next_check:
            rss_max = max(rss_max, rss_bytes(pid))
            for i, reader in enumerate(stalled):
                if cut_after[i] is None and not reader.tcp_established():
                    cut_after[i] = now - started
            next_check = now + 0.25
        await asyncio.sleep(0.005 if sent >= limits.media_event_burst else 0)
    rss_max = max(rss_max, rss_bytes(pid))
    codes = list(await asyncio.gather(*(reader.drain(drain) for reader in stalled)))
    refused = [
        str(e.get("data", {}).get("message"))
        for t, e in sender.received.media_events
        if t == topic and isinstance(e, dict) and e.get("type") == "error"
    ] + [
        str(f[4].get("response", {}).get("reason"))
        for f in sender.received.frames
        if isinstance(f, list) and f[3:4] == ["phx_reply"] and f[4].get("status") == "error"
    ]
    return MetadataFlood(
        metadata_bytes=encoded_size(metadata),
        events_sent=sent,
        rss_before=rss_before,
        rss_max=rss_max,
        cut_after=cut_after,
        close_codes=codes,
        refused=refused,
        load=load_average(),
    )


@dataclass
class JoinFlood:
    flooders: int
    joins_sent: int
    sockets_opened: int
    during: list[JoinReply]
    after: list[JoinReply]
    load: str


async def run_join_flood(
    peers: Peers, duration: float = 5.0, flooders: int = 10, after: float = 3.0
) -> JoinFlood:
    """``flooders`` sockets (one attacker address) send phx_join + phx_leave of fresh rooms
    without waiting for replies, reconnecting when closed; fresh sockets from other
    addresses join other rooms every 0.5 s during the flood and for ``after`` s after it."""
    attacker = peers.addresses.next()
    counts = {"joins": 0, "sockets": 0}
    deadline = time.monotonic() + duration

    async def flood(index: int) -> None:
        while time.monotonic() < deadline:
            try:
                phoenix = await peers.open(f"flooder-{index}", source=attacker)
            except (OSError, InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.1)  # refused: try again, as a script would
                continue
            counts["sockets"] += 1
            try:
                while time.monotonic() < deadline and not phoenix.closed.is_set():
                    topic = f"room:{peers.room(f'flood{index}')}"
                    ref = phoenix.next_ref()
                    await phoenix.send([ref, ref, topic, "phx_join", {"displayName": "flood"}])
                    await phoenix.send([ref, phoenix.next_ref(), topic, "phx_leave", {}])
                    counts["joins"] += 1
                    await asyncio.sleep(0.01)
            except ConnectionClosed:
                pass  # closed by the server: reconnect, as a script would
            finally:
                await peers.discard(phoenix)

    flooding = [peers.spawn(flood(i)) for i in range(flooders)]
    during = await probe_joins(peers, duration, 0.5)
    await asyncio.gather(*flooding, return_exceptions=True)
    return JoinFlood(
        flooders=flooders,
        joins_sent=counts["joins"],
        sockets_opened=counts["sockets"],
        during=during,
        after=await probe_joins(peers, after, 0.5),
        load=load_average(),
    )
