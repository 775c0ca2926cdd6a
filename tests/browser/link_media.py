"""A room whose browsers may reach the worker through an impaired link, and their video stats.

``server_behind_relay`` starts coturn, an ImpairedUdpRelay in front of it and daphne with
its embedded worker, whose join reply names only the relay as TURN server: a participant
opened relay-only (``join_relay_only``, the page's ``?relay=1``) sends and receives all of
its media across the relay; one opened with ``join_room`` connects directly. ``streams``
reads each video RTP stream's counters by mid; ``retransmitted_to`` reads from the
worker's log how many packets it resent to a peer (logged when its subscriptions end).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser

from tests.browser.room_page import Participant, new_context
from tests.support.daphne import DaphneServer, embedded_env, manage, running_daphne
from tests.support.impaired_relay import ImpairedUdpRelay
from tests.support.turn_server import running_turn

# Per video RTP stream, keyed "in:<mid>" or "out:<mid>": the counters the link tests read.
VIDEO_STREAMS_JS = """
async () => {
  const pc = window.videoroom?.visit?.client.connection;
  const out = {};
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.kind !== "video") return;
    if (s.type === "inbound-rtp") out[`in:${s.mid}`] = {
      framesDecoded: s.framesDecoded ?? 0, keyFramesDecoded: s.keyFramesDecoded ?? 0,
      packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
      nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0,
      freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0,
      bytesReceived: s.bytesReceived ?? 0 };
    if (s.type === "outbound-rtp") out[`out:${s.mid}`] = {
      framesEncoded: s.framesEncoded ?? 0, keyFramesEncoded: s.keyFramesEncoded ?? 0,
      packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0,
      nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0,
      retransmittedPacketsSent: s.retransmittedPacketsSent ?? 0 };
  });
  return out;
}
"""

# The mid of the inbound video stream that the tile labelled ``name`` shows.
TILE_MID_JS = """
async (name) => {
  const pc = window.videoroom?.visit?.client.connection;
  const tile = [...document.querySelectorAll('.tile')]
    .find((t) => t.querySelector('.tile-label').textContent === name);
  const track = tile?.querySelector('video')?.srcObject?.getVideoTracks()[0];
  if (!pc || !track) return null;
  let mid = null;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.trackIdentifier === track.id) mid = s.mid;
  });
  return mid;
}
"""

Streams = dict[str, dict[str, float]]


@contextmanager
def server_behind_relay(
    workdir: Path, *, delay: float = 0.0, loss: float = 0.0
) -> Iterator[tuple[ImpairedUdpRelay, DaphneServer]]:
    with (
        running_turn() as turn,
        ImpairedUdpRelay(
            ("127.0.0.1", 0), ("127.0.0.1", turn.port), delay=delay, loss=loss
        ) as relay,
    ):
        env = embedded_env(
            workdir / "db.sqlite3",
            # Browsers reach coturn only through the impairing relay.
            TURN_URLS=f"turn:127.0.0.1:{relay.port}?transport=udp",
            TURN_SECRET=turn.secret,
            ICE_HOST_ADDRESSES="127.0.0.1",
            STUN_URLS="",
        )
        manage(env, "migrate", "--noinput")
        with running_daphne(env, workdir / "daphne.log") as daphne:
            yield relay, daphne


def join_relay_only(browser: Browser, base_url: str, room: str, name: str) -> Participant:
    context = new_context(browser, base_url)
    page = context.new_page()
    page.goto(f"/room/{room}?relay=1")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join room").click()
    return Participant(name, context, page, [])


def streams(person: Participant) -> Streams:
    result: Streams = person.page.evaluate(VIDEO_STREAMS_JS)
    return result


def inbound_mids(person: Participant) -> set[str]:
    return {key for key in streams(person) if key.startswith("in:")}


def inbound_key_of(person: Participant, name: str) -> str:
    """The ``streams`` key of the video ``person`` receives from the participant ``name``."""
    mid = person.page.evaluate(TILE_MID_JS, name)
    assert mid is not None, f"{person.name} shows no video from {name}"
    return f"in:{mid}"


def outbound(by_key: Streams) -> dict[str, float]:
    """The one outbound video stream (the participant's camera) of a ``streams`` reading."""
    (found,) = [value for key, value in by_key.items() if key.startswith("out:")]
    return found


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before.get(key, 0) for key in after}


def self_id(person: Participant) -> str:
    return str(person.page.evaluate("() => window.videoroom.visit.client.state.selfId"))


def retransmitted_to(daphne: DaphneServer, peer_id: str) -> int:
    return sum(n for n, _ in _subscription_ends(daphne, peer_id))


def over_budget_to(daphne: DaphneServer, peer_id: str) -> int:
    """NACKed packets the worker did not resend to the peer: its retransmission budget."""
    return sum(n for _, n in _subscription_ends(daphne, peer_id))


def _subscription_ends(daphne: DaphneServer, peer_id: str) -> list[tuple[int, int]]:
    """(retransmitted, over budget) from each of the peer's "subscription ended" lines."""
    pattern = re.compile(
        rf"peer {peer_id} mid \S+: subscription ended, (\d+) packets retransmitted"
        r"(?:, \d+ held back for a key frame, (\d+) NACKed packets over)?"
    )
    log = daphne.log(tail_chars=1_000_000)
    return [(int(m.group(1)), int(m.group(2) or 0)) for m in pattern.finditer(log)]


def leave(person: Participant) -> None:
    person.page.get_by_role("button", name="Leave").click()
