"""The V2 JSON frame codec: strict parsing, recovery of refs, encoding."""

from __future__ import annotations

import json

import pytest

from rooms.phoenix import frames
from rooms.phoenix.errors import FrameError
from rooms.phoenix.frames import Frame
from rooms.phoenix.ratelimit import TokenBucket


def test_a_join_frame_parses_into_its_five_fields() -> None:
    frame = frames.parse('["1","1","room:abc","phx_join",{"displayName":"Ann"}]')
    assert frame == Frame("1", "1", "room:abc", "phx_join", {"displayName": "Ann"})


def test_a_heartbeat_with_null_join_ref_parses() -> None:
    assert frames.parse('[null,"3","phoenix","heartbeat",{}]').join_ref is None


def test_encoding_is_compact_json_array_in_field_order() -> None:
    encoded = frames.push("1", "room:abc", "mediaEvent", {"data": "é"}).encode()
    assert encoded == '["1",null,"room:abc","mediaEvent",{"data":"é"}]'


def test_reply_close_and_error_frames_have_phoenix_shapes() -> None:
    assert json.loads(frames.reply("1", "2", "t", "ok", {"a": 1}).encode()) == [
        "1",
        "2",
        "t",
        "phx_reply",
        {"status": "ok", "response": {"a": 1}},
    ]
    assert json.loads(frames.error_reply(None, "2", "t", "unmatched topic").encode()) == [
        None,
        "2",
        "t",
        "phx_reply",
        {"status": "error", "response": {"reason": "unmatched topic"}},
    ]
    assert json.loads(frames.close("1", "t").encode()) == ["1", "1", "t", "phx_close", {}]
    assert json.loads(frames.error("1", "t").encode()) == ["1", "1", "t", "phx_error", {}]


@pytest.mark.parametrize(
    "text", ["not json", "{}", '"x"', "[]", '[1, 2, "t", "e", {}]', "[" * 100000]
)
def test_frames_without_a_ref_and_topic_cannot_be_answered(text: str) -> None:
    with pytest.raises(FrameError) as error:
        frames.parse(text)
    assert not error.value.answerable


@pytest.mark.parametrize(
    "text",
    [
        '["1","2","room:a","e"]',  # four elements
        '["1","2","room:a","e",{},6]',  # six elements
        '["1","2","room:a","e",[]]',  # payload not an object
        '["1","2","room:a","e","x"]',
        '["1","2","room:a",5,{}]',  # event not a string
        '["1","2","room:a","",{}]',
        '[7,"2","room:a","e",{}]',  # join_ref neither string nor null
    ],
)
def test_malformed_frames_keep_their_ref_and_topic_for_an_error_reply(text: str) -> None:
    with pytest.raises(FrameError) as error:
        frames.parse(text)
    assert (error.value.ref, error.value.topic) == ("2", "room:a")
    assert error.value.code == "invalid frame"


def test_over_long_fields_are_not_trusted() -> None:
    with pytest.raises(FrameError) as error:
        frames.parse(json.dumps(["1", "2", "t" * 256, "e", {}]))
    assert error.value.topic is None


def test_token_bucket_allows_a_burst_then_refills_over_time() -> None:
    now = [0.0]
    bucket = TokenBucket(capacity=3, rate=2.0, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]


@pytest.mark.parametrize(
    "text",
    [
        '["1","2","room:a","e",{"x":NaN}]',
        '["1","2","room:a","e",{"x":-Infinity}]',
        '["1","2","room:a","e",{"x":"\\ud800"}]',
        '["1","2","room:a","e",{"\\udfff":1}]',
        '["1","2","room:a","e",{"x":"\ud800"}]',  # a raw lone surrogate, as ASGI can deliver
    ],
)
def test_json_that_browsers_reject_is_an_answerable_invalid_frame(text: str) -> None:
    with pytest.raises(FrameError) as error:
        frames.parse(text)
    assert (error.value.join_ref, error.value.ref, error.value.topic) == ("1", "2", "room:a")
    assert error.value.code == "invalid frame"


@pytest.mark.parametrize(
    "text", ['[NaN,NaN,NaN,"e",{}]', '["1","\\ud800","room:a","e",{}]', "[1,2,NaN"]
)
def test_non_strict_json_without_a_clean_ref_and_topic_cannot_be_answered(text: str) -> None:
    with pytest.raises(FrameError) as error:
        frames.parse(text)
    assert not error.value.answerable


@pytest.mark.parametrize(
    "payload", [{"x": float("nan")}, {"x": float("inf")}, {"x": "\ud800"}, {"\udc00": 1}]
)
def test_a_frame_no_browser_could_parse_is_not_encoded(payload: dict) -> None:
    with pytest.raises(frames.UnencodableFrame):
        frames.push("1", "room:a", "mediaEvent", payload).encode()
