"""Strict parsing of remote ICE candidates (RFC 8839) and which ones the worker uses."""

from __future__ import annotations

import pytest

from rooms.sfu.addresses import policy_for
from rooms.sfu.candidates import InvalidCandidate, parse_candidate, unusable_reason
from rooms.sfu.config import MediaConfig

CHROME = (
    "candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0 "
    "generation 0 ufrag abcd network-cost 999"
)


def test_a_browser_candidate_is_parsed_field_by_field() -> None:
    candidate = parse_candidate(CHROME)
    assert (candidate.component, candidate.transport, candidate.host, candidate.port) == (
        1,
        "udp",
        "203.0.113.7",
        54321,
    )
    assert candidate.type == "srflx" and candidate.related_port == 0
    assert parse_candidate("a=" + CHROME) == candidate
    rtc = candidate.to_aiortc()
    assert rtc.sdpMLineIndex == 0 and rtc.ip == "203.0.113.7"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "candidate:",
        "hello world",
        "candidate:1 1 udp 1 192.0.2.1 1 typ",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host extra",
        "candidate:1 257 udp 1 192.0.2.1 1 typ host",
        "candidate:1 \u0661 udp 1 192.0.2.1 1 typ host",  # a Unicode digit int() would accept
        "candidate:1 1 udp 0 192.0.2.1 1 typ host",
        "candidate:1 1 udp 1 192.0.2.1 0 typ host",
        "candidate:1 1 udp 1 192.0.2.1 65536 typ host",
        "candidate:1 1 udp 1 192.0.2.1 +1 typ host",
        "candidate:1 1 quic 1 192.0.2.1 1 typ host",
        "candidate:1 1 udp 1 _bad_ 1 typ host",
        "candidate:{} 1 udp 1 192.0.2.1 1 typ host",
        "candidate:" + "a" * 33 + " 1 udp 1 192.0.2.1 1 typ host",
        "candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype weird",
        "candidate:1  1 udp 1 192.0.2.1 1 typ host",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host raddr nope",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host rport 70000",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host " + "x " * 300,
    ],
)
def test_malformed_candidates_are_refused(text: str) -> None:
    with pytest.raises(InvalidCandidate):
        parse_candidate(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("candidate:1 1 udp 1 192.0.2.1 9 typ host", None),
        ("candidate:1 2 udp 1 192.0.2.1 9 typ host", "not component 1"),
        ("candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype active", "not UDP"),
        ("candidate:1 1 udp 1 abc.local 9 typ host", "a host name"),
        ("candidate:1 1 udp 1 169.254.169.254 9 typ host", "outside ICE_ALLOWED"),
    ],
)
def test_only_usable_candidates_reach_aiortc(text: str, reason: str | None) -> None:
    found = unusable_reason(parse_candidate(text), policy_for(MediaConfig()))
    assert found == reason if reason is None else reason in (found or "")
