"""Issue 9, end to end: hostile and sloppy peers cannot hurt anyone else.

One real daphne in the embedded default (the room worker on daphne's own event loop)
takes each attack at the largest the bounds in ``rooms.limits`` allow, while bystanders
(heartbeat sockets, fresh joins, aiortc peers with real media) are measured. Every
socket comes from its own loopback address unless the scenario says it is one attacker.
"""

from __future__ import annotations

import pytest

from rooms.limits import Limits
from tests.hostile.floods import run_join_flood, run_metadata_flood, run_offer_flood
from tests.hostile.misuse import (
    run_lone_surrogate,
    run_nan_metadata,
    run_squatters,
    run_track_theft,
)
from tests.hostile.peers import Peers
from tests.hostile.wire import JoinReply
from tests.support.daphne import DaphneServer

pytestmark = [pytest.mark.hostile, pytest.mark.multiprocess, pytest.mark.media]

MiB = 1024 * 1024
# The figures.
HEARTBEAT_P95_SECONDS = 0.200
JOIN_REPLY_SECONDS = 1.0
AUDIO_FRAMES_PER_SECOND = 45  # of the 50 an Opus publisher sends
RSS_GROWTH_BYTES = 50 * MiB
SLOW_READER_CLOSES = {4013, 1006}  # the named code, or the TCP connection dropped


def slow_joins(replies: list[JoinReply]) -> list[str]:
    return [
        f"{r.status} after {r.seconds:.2f} s"
        for r in replies
        if r.status != "ok" or r.seconds > JOIN_REPLY_SECONDS
    ]


async def test_the_largest_offer_every_second_does_not_stall_other_rooms(peers: Peers) -> None:
    flood = await run_offer_flood(peers, duration=10.0)
    summary = (
        f"{flood.offers_sent} offers of {flood.offer_bytes} B / {flood.offer_m_lines} m-lines; "
        f"heartbeat RTT p50 {flood.rtt(50) * 1000:.0f} ms p95 {flood.rtt(95) * 1000:.0f} ms "
        f"max {max(flood.heartbeat_rtts) * 1000:.0f} ms; joins {[round(j.seconds, 2) for j in flood.joins]}; "
        f"audio fps {flood.audio.per_second}; the attacker heard {flood.attacker_heard}; "
        f"load {flood.load}"
    )
    print(summary)
    assert flood.offer_m_lines == peers.limits.offer_media_sections
    assert flood.offer_bytes <= peers.limits.sdp_bytes
    assert flood.rtt(95) < HEARTBEAT_P95_SECONDS, summary
    assert not slow_joins(flood.joins), summary
    assert flood.audio.minimum >= AUDIO_FRAMES_PER_SECOND, summary


async def test_members_that_never_read_are_cut_off_and_memory_stays_bounded(
    own_server: tuple[DaphneServer, Limits], own_peers: Peers
) -> None:
    server, _ = own_server
    flood = await run_metadata_flood(own_peers, server.process.pid, duration=15.0)
    summary = (
        f"{flood.events_sent} updates of {flood.metadata_bytes} B; daphne RSS "
        f"{flood.rss_before / MiB:.1f} -> {flood.rss_max / MiB:.1f} MiB; TCP cut after "
        f"{flood.cut_after} s; streams ended with {flood.close_codes}; the sender was refused "
        f"{len(flood.refused)} times {sorted(set(flood.refused))}; load {flood.load}"
    )
    print(summary)
    assert flood.rss_growth < RSS_GROWTH_BYTES, summary
    # Refused updates reach nobody: the flood would not be the largest allowed.
    assert len(flood.refused) <= flood.events_sent // 10, summary
    assert all(code in SLOW_READER_CLOSES for code in flood.close_codes), summary


async def test_squatters_that_never_connect_are_removed(peers: Peers) -> None:
    squat = await run_squatters(peers, squatters=11)
    summary = (
        f"{squat.squatters_joined} squatters; member {squat.member.status} connected "
        f"{squat.member_connected}; squatters removed after {squat.removed_after} s; "
        f"{squat.refills_joined}/{squat.refills_tried} later joins fit"
    )
    print(summary)
    assert squat.squatters_joined == 11, summary
    assert squat.member.status == "ok" and squat.member_connected, summary
    assert all(after is not None for after in squat.removed_after), summary
    assert squat.refills_joined == squat.refills_tried, summary


async def test_a_join_flood_does_not_delay_joins_into_other_rooms(peers: Peers) -> None:
    flood = await run_join_flood(peers, duration=5.0, flooders=10)
    summary = (
        f"{flood.joins_sent} join+leave from {flood.sockets_opened} sockets; slow probes "
        f"during {slow_joins(flood.during)}, after {slow_joins(flood.after)}; load {flood.load}"
    )
    print(summary)
    assert not slow_joins(flood.during), summary
    assert not slow_joins(flood.after), summary


async def test_a_peer_cannot_take_over_or_remove_another_peers_track(peers: Peers) -> None:
    theft = await run_track_theft(peers)
    summary = (
        f"viewer fps before {theft.before.per_second}, after the thief left "
        f"{theft.after.per_second}; the thief heard {theft.thief_heard}"
    )
    print(summary)
    assert theft.before.mean > 10, f"the viewer never received the video: {summary}"
    assert theft.after.minimum >= theft.before.mean / 2, summary


async def test_nan_in_metadata_never_reaches_a_browser(peers: Peers) -> None:
    poisoned = await run_nan_metadata(peers)
    print(f"texts a browser could not parse: {poisoned.unparsable}")
    assert poisoned.unparsable == [], poisoned.unparsable
    assert poisoned.late_joiner_connected


async def test_a_lone_surrogate_display_name_is_refused_and_the_admin_still_works(
    peers: Peers,
) -> None:
    surrogate = await run_lone_surrogate(peers)
    summary = f"join {surrogate.join}; admin change page HTTP {surrogate.admin_status}"
    print(summary)
    assert surrogate.join.status == "error", summary
    assert surrogate.admin_status == 200, summary
