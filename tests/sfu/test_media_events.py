"""Strict parsing of client media events and the shape of server events."""

from __future__ import annotations

import json

import pytest

from rooms.sfu import media_events as ev


def custom(kind: str, data: object = None) -> str:
    inner: dict[str, object] = {"type": kind}
    if data is not None:
        inner["data"] = data
    return json.dumps({"type": "custom", "data": inner})


def test_connect_carries_metadata() -> None:
    event = ev.parse_client_event('{"type":"connect","data":{"metadata":{"displayName":"Ann"}}}')
    assert event == ev.Connect(metadata={"displayName": "Ann"})


def test_disconnect_without_data_is_accepted() -> None:
    assert ev.parse_client_event('{"type":"disconnect"}') == ev.Disconnect()


def test_sdp_offer_is_parsed_with_its_maps() -> None:
    raw = custom(
        "sdpOffer",
        {
            "sdpOffer": {"type": "offer", "sdp": "v=0\r\n"},
            "trackIdToTrackMetadata": {"p:t1": {"type": "camera", "active": True}},
            "trackIdToTrackBitrates": {"p:t1": 2500000},
            "midToTrackId": {"0": "p:t1"},
        },
    )
    event = ev.parse_client_event(raw)
    assert isinstance(event, ev.SdpOffer)
    assert event.mid_to_track_id == {"0": "p:t1"}
    assert event.track_metadata == {"p:t1": {"type": "camera", "active": True}}


def test_candidate_without_mid_is_parsed() -> None:
    event = ev.parse_client_event(
        custom(
            "candidate",
            {"candidate": "candidate:1 1 udp 1 192.0.2.9 5000 typ host", "sdpMLineIndex": 0},
        )
    )
    assert event == ev.Candidate(
        candidate="candidate:1 1 udp 1 192.0.2.9 5000 typ host", sdp_m_line_index=0, sdp_mid=None
    )


def test_renegotiate_tracks_and_simulcast_events_are_recognised() -> None:
    assert ev.parse_client_event(custom("renegotiateTracks")) == ev.RenegotiateTracks()
    variant = custom("setTargetTrackVariant", {"trackId": "t", "variant": "h"})
    assert ev.parse_client_event(variant) == ev.Unsupported(name="setTargetTrackVariant")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "must be an object"),
        ('{"type":"dance"}', "unknown media event"),
        ('{"type":"connect"}', "connect data must be an object"),
        ('{"type":"connect","data":{"metadata":5}}', "metadata must be an object"),
        ('{"type":"updateTrackMetadata","data":{"trackMetadata":{}}}', "trackId"),
        (custom("sdpOffer", {"sdpOffer": {"type": "answer", "sdp": "v=0"}}), "must be 'offer'"),
        (
            custom(
                "sdpOffer", {"sdpOffer": {"type": "offer", "sdp": "v=0"}, "midToTrackId": {"0": 1}}
            ),
            "midToTrackId",
        ),
        (custom("candidate", {"candidate": "candidate:x", "sdpMLineIndex": -1}), "sdpMLineIndex"),
        (custom("candidate", {"sdpMLineIndex": 0}), "candidate.candidate"),
        (custom("teleport"), "unknown custom media event"),
        ('{"type":"custom","data":"x"}', "custom data must be an object"),
    ],
)
def test_malformed_events_raise_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ev.MediaEventError) as info:
        ev.parse_client_event(raw)
    assert reason in info.value.message


def test_an_offer_for_a_room_of_twenty_is_not_too_large() -> None:
    # 40 m-lines at ~4 KB, as Chrome offers without codec preferences: ~160 KB.
    sdp = "v=0\r\n" + ("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + "a=x\r\n" * 1000) * 40
    raw = custom("sdpOffer", {"sdpOffer": {"type": "offer", "sdp": sdp}})
    assert len(raw) > 160_000
    assert isinstance(ev.parse_client_event(raw), ev.SdpOffer)


def test_oversized_event_is_refused() -> None:
    with pytest.raises(ev.MediaEventError):
        ev.parse_client_event(" " * (ev.MAX_EVENT_CHARS + 1))


def test_connected_lists_tracks_in_both_shapes() -> None:
    view = ev.EndpointView(
        id="a", metadata={"displayName": "A"}, tracks={"a:1": {"type": "camera"}}
    )
    data = json.loads(ev.connected("b", [view]))
    assert data["type"] == "connected"
    other = data["data"]["otherEndpoints"][0]
    assert other["type"] == "webrtc"
    assert other["trackIdToMetadata"] == {"a:1": {"type": "camera"}}
    assert other["tracks"]["a:1"]["metadata"] == {"type": "camera"}
    assert other["tracks"]["a:1"]["simulcastConfig"]["enabled"] is False


def test_custom_server_events_are_wrapped() -> None:
    offer = json.loads(ev.offer_data(1, 2))
    assert offer == {
        "type": "custom",
        "data": {
            "type": "offerData",
            "data": {"tracksTypes": {"audio": 1, "video": 2}, "integratedTurnServers": []},
        },
    }
    turn = {
        "serverAddr": "192.0.2.9",
        "serverPort": 3478,
        "transport": "tcp",
        "username": "1:p",
        "password": "x",
    }
    with_turn = json.loads(ev.offer_data(0, 1, [turn]))["data"]["data"]
    assert with_turn["integratedTurnServers"] == [turn]
    answer = json.loads(ev.sdp_answer("v=0", {"0": "t"}))["data"]
    assert answer == {
        "type": "sdpAnswer",
        "data": {"type": "answer", "sdp": "v=0", "midToTrackId": {"0": "t"}},
    }
    cand = json.loads(ev.candidate("candidate:1 1 udp 1 192.0.2.2 1 typ host"))["data"]["data"]
    assert cand["sdpMLineIndex"] == 0 and cand["sdpMid"] is None


def test_error_event_carries_message() -> None:
    assert json.loads(ev.error("boom")) == {"type": "error", "data": {"message": "boom"}}
