"""Scenarios where a peer sends little but the wrong thing (issue 9): squatting, another
peer's track id, NaN, a lone surrogate. Each returns what the bystanders saw."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
from dataclasses import dataclass, field

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

from tests.hostile.attacks import NAN_METADATA_EVENT, lone_surrogate_join, offer_event
from tests.hostile.media import FrameRate, FrameRateSampler, stream_of
from tests.hostile.peers import JOIN_TIMEOUT_SECONDS, Peers
from tests.hostile.wire import JoinReply, RawPhoenix
from tests.multiprocess.admin_http import AdminSession
from tests.support.cluster import ADMIN_PASSWORD, ADMIN_USERNAME


@dataclass
class Squat:
    squatters_joined: int
    member: JoinReply
    member_connected: bool
    removed_after: list[float | None]  # per squatter: s after its join until it was removed
    refills_joined: int  # fresh joins into the room once the squatters' time was up
    refills_tried: int


def _ended(phoenix: RawPhoenix, topic: str) -> bool:
    return phoenix.closed.is_set() or bool({"phx_close", "phx_error"} & set(phoenix.events(topic)))


async def run_squatters(peers: Peers, squatters: int = 11, grace: float = 6.0) -> Squat:
    """``squatters`` sockets join one room and never send ``connect``; a real member joins
    and connects; then the squatters' removal and the room's free places are checked."""
    room = peers.room("squat")
    topic = f"room:{room}"
    attacker = peers.addresses.next()
    joined: list[tuple[RawPhoenix, float]] = []
    for index in range(squatters):
        phoenix, reply = await peers.join(room, f"squatter-{index}", source=attacker)
        if reply.status == "ok":
            joined.append((phoenix, time.monotonic()))
    member = await peers.open("member")
    member_reply = await member.join(topic, {"displayName": "member"}, JOIN_TIMEOUT_SECONDS)
    connected = False
    if member_reply.status == "ok":
        await member.media_event(topic, {"type": "connect", "data": {"metadata": {}}})
        connected = await member.wait_for(
            lambda: "connected" in member.media_event_types(topic), JOIN_TIMEOUT_SECONDS
        )
    deadline = time.monotonic() + peers.limits.connect_timeout_seconds + grace

    async def removal(phoenix: RawPhoenix, joined_at: float) -> float | None:
        wait = max(0.0, deadline - time.monotonic())
        if await phoenix.wait_for(lambda: _ended(phoenix, topic), wait):
            return time.monotonic() - joined_at
        return None

    removed = list(await asyncio.gather(*(removal(p, at) for p, at in joined)))
    refills = 0
    for index in range(squatters):
        phoenix, reply = await peers.join(room, f"refill-{index}")
        refills += reply.status == "ok"
        await peers.discard(phoenix)
    return Squat(len(joined), member_reply, connected, removed, refills, squatters)


@dataclass
class TrackTheft:
    before: FrameRate  # the viewer's frames/s of the owner's video before the theft
    after: FrameRate  # the same once the thief withdrew the stolen track id
    thief_heard: list[str] = field(default_factory=list)  # media events the thief got


async def _thief_offer(thief: RawPhoenix, topic: str, sdp: str, mids: dict[str, str]) -> None:
    """Send an offer and wait for its answer or an error (either is fine here)."""
    seen = len(thief.media_event_types(topic))
    await thief.media_event(topic, offer_event(sdp, mids))
    await thief.wait_for(
        lambda: bool({"custom/sdpAnswer", "error"} & set(thief.media_event_types(topic)[seen:])),
        JOIN_TIMEOUT_SECONDS,
    )


async def run_track_theft(peers: Peers, window: float = 3.0) -> TrackTheft:
    """Owner A publishes video, viewer C counts it; thief B publishes a track under A's
    track id, then removes it. C's frame rate of A's video before and after."""
    room = peers.room("theft")
    topic = f"room:{room}"
    owner = await peers.bots.start("owner", room, peers.addresses.next(), video=True)
    viewer = await peers.bots.start("viewer", room, peers.addresses.next())
    stolen_id = next(iter(owner.own_tracks))
    sampler = FrameRateSampler(await stream_of(viewer, stolen_id))
    peers.own(sampler.start())
    await asyncio.sleep(window)
    before = await sampler.stop()
    thief = await peers.member(room, "thief")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        transceiver = pc.addTransceiver("video", direction="sendonly")
        sdp = (await pc.createOffer()).sdp
        await _thief_offer(thief, topic, sdp, {transceiver.mid or "0": stolen_id})
        await asyncio.sleep(1.0)
        # The thief "stops its camera": the m-line goes inactive, the id leaves midToTrackId.
        await _thief_offer(thief, topic, sdp.replace("a=sendonly", "a=inactive"), {})
    finally:
        await pc.close()
    await asyncio.sleep(1.0)  # the viewer's renegotiation, if any
    sampler = FrameRateSampler(viewer.streams[stolen_id])
    peers.own(sampler.start())
    await asyncio.sleep(window)
    return TrackTheft(before, await sampler.stop(), thief.media_event_types(topic))


@dataclass
class Poisoned:
    late_joiner_connected: bool
    unparsable: list[str]  # texts the late joiner (and a member present) could not parse


async def run_nan_metadata(peers: Peers) -> Poisoned:
    """A member sends endpoint metadata holding NaN and Infinity; a member present then
    and one joining afterwards must be able to JSON.parse everything they receive."""
    room = peers.room("nan")
    topic = f"room:{room}"
    present = await peers.member(room, "present")
    poisoner = await peers.member(room, "poisoner")
    await poisoner.media_event(topic, NAN_METADATA_EVENT)
    await asyncio.sleep(1.0)
    late = await peers.member(room, "late")
    connected = "connected" in late.media_event_types(topic)
    await asyncio.sleep(1.0)  # tracks, offerData and anything else that follows
    return Poisoned(connected, [*present.received.unparsable, *late.received.unparsable])


@dataclass
class Surrogate:
    join: JoinReply
    admin_status: int  # HTTP status of the room's admin change page


def _admin_change_page_status(base_url: str, room: str) -> int:
    admin = AdminSession(base_url)
    admin.login(ADMIN_USERNAME, ADMIN_PASSWORD)
    listing = admin.get(f"/admin/rooms/room/?q={room}")
    found = re.search(r'href="/admin/rooms/room/(\d+)/change/', listing)
    assert found, f"room {room} not in the admin list"
    try:
        admin.get(f"/admin/rooms/room/{found.group(1)}/change/")
    except urllib.error.HTTPError as error:
        return error.code
    return 200


async def run_lone_surrogate(peers: Peers) -> Surrogate:
    """A member is in the room; a join with displayName "\\ud800" (as a JSON escape);
    then the room's admin change page, as the suite's superuser."""
    room = peers.room("surrogate")
    topic = f"room:{room}"
    await peers.member(room, "member")
    phoenix = await peers.open("surrogate")
    ref = phoenix.next_ref()
    reply = await phoenix.request(lone_surrogate_join(topic, ref), JOIN_TIMEOUT_SECONDS, ref=ref)
    await asyncio.sleep(0.5)  # whatever the join wrote
    status = await asyncio.to_thread(_admin_change_page_status, peers.server.origin, room)
    return Surrogate(reply, status)
