"""Strict JSON: what a browser's JSON.parse accepts, and nothing UTF-8 cannot carry."""

from __future__ import annotations

import math

import pytest

from rooms import strictjson
from rooms.logtext import clip


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "{", ""])
def test_loads_refuses_what_json_parse_refuses(text: str) -> None:
    with pytest.raises(strictjson.StrictJSONError):
        strictjson.loads(text)


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udfff": 1}', '["ok", {"a": ["\\ud83d"]}]'])
def test_loads_refuses_lone_surrogates_written_as_escapes(text: str) -> None:
    with pytest.raises(strictjson.StrictJSONError, match="surrogate"):
        strictjson.loads(text)


def test_loads_refuses_a_raw_lone_surrogate() -> None:
    with pytest.raises(strictjson.StrictJSONError, match="surrogate"):
        strictjson.loads('"\ud800"')


def test_loads_keeps_escaped_pairs_and_plain_unicode() -> None:
    assert strictjson.loads('["\\ud83d\\ude00", "é", 1.5]') == ["\U0001f600", "é", 1.5]


def test_dumps_refuses_nan_and_writes_compact_utf8() -> None:
    with pytest.raises(ValueError):
        strictjson.dumps({"a": math.nan})
    assert strictjson.dumps({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'
    assert strictjson.encoded_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_clip_escapes_newlines_and_cuts_long_values() -> None:
    assert clip("room:a\nINFO forged") == "room:a\\nINFO forged"
    long = clip("x" * 10_000)
    assert len(long) < 240 and long.endswith("(10000 chars)")
