"""Textual SDP edits: mDNS candidates dropped, external address advertised."""

from __future__ import annotations

from rooms.sfu import sdp_text

OFFER = "\r\n".join(
    [
        "v=0",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 192.0.2.2",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789012345678901",
        "a=candidate:1 1 udp 2122260223 3b5c7e42-aaaa-bbbb-cccc-000011112222.local 50000 typ host",
        "a=candidate:2 1 udp 2122260223 192.0.2.2 50001 typ host",
        "a=candidate:3 1 udp 2122260223 fd00::2 50002 typ host",
        "a=candidate:4 1 udp 2122260223 198.51.100.3 50003 typ host",
        "a=candidate:5 1 udp 1686052607 203.0.113.9 50004 typ srflx raddr 192.0.2.2 rport 50001",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=candidate:9 1 udp 2122260223 192.0.2.2 50009 typ host",
        "",
    ]
)


def test_mdns_candidates_are_stripped_and_others_kept() -> None:
    stripped = sdp_text.strip_mdns_candidates(OFFER)
    assert ".local" not in stripped
    assert "192.0.2.2 50001" in stripped
    assert sdp_text.is_mdns_candidate("candidate:1 1 udp 1 x.local 5 typ host")
    assert not sdp_text.is_mdns_candidate("candidate:1 1 udp 1 192.0.2.2 5 typ host")


def test_external_ip_replaces_same_family_host_candidates_once_per_port() -> None:
    rewritten = sdp_text.advertise_external_ip(OFFER, "203.0.113.7")
    lines = sdp_text.candidate_lines(rewritten)
    hosts = [line.split()[4] for line in lines if "typ host" in line]
    assert "192.0.2.2" not in hosts and "198.51.100.3" not in hosts
    assert hosts.count("203.0.113.7") == 2  # ports 50001 and 50003
    assert "fd00::2" in hosts  # another family is left alone
    assert any("typ srflx" in line and "203.0.113.9" in line for line in lines)
    assert "c=IN IP4 203.0.113.7" in rewritten


def test_no_external_ip_changes_nothing() -> None:
    assert sdp_text.advertise_external_ip(OFFER, "") == OFFER


def test_candidate_lines_come_from_the_first_m_line() -> None:
    lines = sdp_text.candidate_lines(OFFER)
    assert lines[0].startswith("candidate:1 ")
    assert all("50009" not in line for line in lines)


def test_ice_credentials_are_the_first_pair() -> None:
    assert sdp_text.ice_credentials(OFFER) == ("abcd", "0123456789012345678901")
    assert sdp_text.ice_credentials("v=0\r\n") is None


def test_keep_codecs_keeps_the_forwarded_codec_and_its_rtx_only() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103",
            "a=mid:0",
            "a=rtpmap:96 VP8/90000",
            "a=rtcp-fb:96 nack pli",
            "a=rtpmap:97 rtx/90000",
            "a=fmtp:97 apt=96",
            "a=rtpmap:102 H264/90000",
            "a=rtcp-fb:102 nack",
            "a=fmtp:102 packetization-mode=1",
            "a=rtpmap:103 rtx/90000",
            "a=fmtp:103 apt=102",
            "a=rtcp-fb:* transport-cc",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
            "a=rtpmap:111 opus/48000/2",
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=rtpmap:0 PCMU/8000",
            "m=video 9 UDP/TLS/RTP/SAVPF 102",
            "a=rtpmap:102 H264/90000",
            "",
        ]
    )
    kept = sdp_text.keep_codecs(sdp, {"audio": "opus", "video": "vp8"}).split("\r\n")
    assert kept[1] == "m=video 9 UDP/TLS/RTP/SAVPF 96 97"
    first = kept[: kept.index("m=audio 9 UDP/TLS/RTP/SAVPF 111")]
    assert not [line for line in first if " 102" in line or ":102" in line or ":103" in line]
    assert "a=rtcp-fb:* transport-cc" in kept and "a=fmtp:97 apt=96" in kept
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111" in kept and "a=rtpmap:0 PCMU/8000" not in kept
    # No VP8 at all: left as it is, for the answer step to refuse precisely.
    assert kept[-3:] == ["m=video 9 UDP/TLS/RTP/SAVPF 102", "a=rtpmap:102 H264/90000", ""]
