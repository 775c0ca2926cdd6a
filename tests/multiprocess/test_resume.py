"""Resuming a peer across sockets and web processes (docs/protocol.md, "Resuming a peer").

Real daphnes, room workers and Redis; clients speak Phoenix over real websockets and
send `connect` like a page, without media (tests/browser/test_web_death.py has media).
The cluster runs the default grace period, VIDEOROOM_RESUME_GRACE_SECONDS = 20 s.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from rooms.grants import PARTICIPANT
from rooms.names import topic_for
from rooms.resume import resume_secret
from tests.multiprocess.client import PhoenixSocket, ok
from tests.multiprocess.conftest import OpenSockets
from tests.multiprocess.probe import Probe, eventually
from tests.support.cluster import Cluster, kill_hard

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]

GRACE_SECONDS = 20.0  # the default of VIDEOROOM_RESUME_GRACE_SECONDS


def _connect_event(name: str) -> dict[str, Any]:
    return {"type": "connect", "data": {"metadata": {"displayName": name}}}


async def _join_connected(
    socket: PhoenixSocket, topic: str, name: str, *, resumable: bool
) -> dict[str, Any]:
    """Join (asking for a resume secret or not), send `connect`, wait for `connected`."""
    params: dict[str, Any] = {"displayName": name}
    if resumable:
        params["resumable"] = True
    reply = await socket.join(topic, name, params=params)
    assert ok(reply), reply
    await socket.send_media_event(topic, _connect_event(name))
    await eventually(
        lambda: any(e["type"] == "connected" for e in socket.media_events(topic)),
        what=f"{name} connected",
    )
    response: dict[str, Any] = reply[4]["response"]
    return response


def _removals_of(socket: PhoenixSocket, topic: str, peer_id: str) -> list[dict[str, Any]]:
    return [
        event
        for event in socket.media_events(topic, since_join=False)
        if event["type"] == "endpointRemoved" and event["data"]["id"] == peer_id
    ]


async def _open_on(cluster: Cluster, web_index: int, name: str) -> PhoenixSocket:
    web = cluster.webs[web_index]
    return await PhoenixSocket.open(web.socket_url, web.http_url, name)


async def test_a_broken_socket_detaches_the_peer_and_its_secret_resumes_it_unseen_by_the_others(
    cluster: Cluster, open_sockets: OpenSockets, probe: Probe, room_name: str
) -> None:
    topic = topic_for(room_name)
    ann, bob = await open_sockets(2)  # one on each daphne
    joined = await _join_connected(ann, topic, "Ann", resumable=True)
    ann_id, secret = joined["peerId"], joined["resume"]
    assert joined["resumed"] is False and isinstance(secret, str)
    await _join_connected(bob, topic, "Bob", resumable=False)

    await ann.close()  # no phx_leave: as when the network or the web process goes away
    await asyncio.sleep(2)
    again = await _open_on(cluster, 1, "ann-again")
    try:
        reply = await again.join(topic, "Ann", params={"displayName": "Ann", "resume": secret})
        assert ok(reply), reply
        response = reply[4]["response"]
        assert response["peerId"] == ann_id and response["resumed"] is True
        # The room is resent and a new negotiation round opened (what was lost is redone).
        await eventually(
            lambda: [e["type"] for e in again.media_events(topic)][:1] == ["connected"],
            what="the room resent to the resumed peer",
        )
        connected = again.media_events(topic)[0]["data"]
        assert connected["id"] == ann_id
        assert [other["id"] for other in connected["otherEndpoints"]] == [bob.peer_ids[topic]]
        await eventually(
            lambda: any(
                e.get("data", {}).get("type") == "offerData" for e in again.media_events(topic)
            ),
            what="a fresh offerData",
        )
        # Beyond the grace period the peer is still there, and Bob never saw it go.
        await asyncio.sleep(GRACE_SECONDS + 2)
        assert _removals_of(bob, topic, ann_id) == []
        assert [e["type"] for e in bob.media_events(topic) if e["type"] == "endpointAdded"] == []
        assert again.still_joined(topic)
        stays = probe.stays(room_name)
        assert [(s.peer_id, s.left_at) for s in stays if s.display_name == "Ann"] == [
            (ann_id, None)
        ]
    finally:
        # phx_leave: the room is gone at once for the next test, not after a grace period.
        await again.leave(topic)
        await again.close()


async def test_a_detached_peer_not_resumed_is_removed_after_the_grace_period_and_recorded_once(
    open_sockets: OpenSockets, probe: Probe, room_name: str
) -> None:
    topic = topic_for(room_name)
    ann, bob = await open_sockets(2)
    ann_id = (await _join_connected(ann, topic, "Ann", resumable=True))["peerId"]
    await _join_connected(bob, topic, "Bob", resumable=False)

    closed_at = time.monotonic()
    await ann.close()
    await eventually(
        lambda: _removals_of(bob, topic, ann_id),
        timeout=GRACE_SECONDS + 30,
        what="Ann removed at Bob's",
    )
    waited = time.monotonic() - closed_at
    assert waited >= GRACE_SECONDS - 1, f"removed after {waited:.1f} s, within the grace period"
    await eventually(
        lambda: [s for s in probe.stays(room_name) if s.peer_id == ann_id and s.left_at],
        what="Ann's stay ended",
    )
    await asyncio.sleep(2)  # no second record follows
    ann_stays = [s for s in probe.stays(room_name) if s.peer_id == ann_id]
    assert [(s.leave_reason, s.left_at is not None) for s in ann_stays] == [("disconnected", True)]


async def test_a_left_peer_wrong_secret_or_other_rooms_secret_is_refused_with_resume_refused(
    open_sockets: OpenSockets, room_name: str
) -> None:
    topic = topic_for(room_name)
    ann, carl = await open_sockets(2)
    joined = await _join_connected(ann, topic, "Ann", resumable=True)
    other_room_secret = resume_secret(f"{room_name}-other", joined["peerId"], PARTICIPANT)
    for bad in ["not-a-secret", joined["resume"][:-2] + "xx", other_room_secret, 5, ""]:
        reply = await carl.join(topic, "Carl", params={"resume": bad})
        assert reply[4] == {"status": "error", "response": {"reason": "resume refused"}}, bad
    # phx_leave removes at once: its secret resumes nothing.
    assert ok(await ann.leave(topic))
    reply = await carl.join(topic, "Carl", params={"resume": joined["resume"]})
    assert reply[4] == {"status": "error", "response": {"reason": "resume refused"}}
    # The client's fallback, a fresh join, works.
    assert ok(await carl.join(topic, "Carl", params={"displayName": "Carl", "resumable": True}))


async def test_a_killed_web_process_costs_its_peer_a_resume_not_a_rejoin(
    cluster: Cluster, open_sockets: OpenSockets, probe: Probe, room_name: str
) -> None:
    topic = topic_for(room_name)
    ann, bob = await open_sockets(2)  # Ann through web1, Bob through web2
    joined = await _join_connected(ann, topic, "Ann", resumable=True)
    await _join_connected(bob, topic, "Bob", resumable=False)
    web = cluster.webs[0]

    kill_hard(web)
    await asyncio.sleep(2)
    restarted = await asyncio.to_thread(cluster.restart_web, web)
    ready_at = time.monotonic()
    again = await PhoenixSocket.open(restarted.socket_url, restarted.http_url, "ann-again")
    try:
        reply = await again.join(topic, "Ann", params={"resume": joined["resume"]})
        assert ok(reply), reply
        assert reply[4]["response"]["peerId"] == joined["peerId"]
        print(f"\nresume join answered {time.monotonic() - ready_at:.2f} s after the restart")
        # Past the worker's ghost check (a lease and a half after the kill) and then some.
        await asyncio.sleep(12)
        assert _removals_of(bob, topic, joined["peerId"]) == []
        assert again.still_joined(topic)
        assert [s.left_at for s in probe.stays(room_name) if s.display_name == "Ann"] == [None]
    finally:
        # phx_leave: the room is gone at once for the next test, not after a grace period.
        await again.leave(topic)
        await again.close()
