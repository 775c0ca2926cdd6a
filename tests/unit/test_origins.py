"""The Origin check compares scheme, host and port; the setting is validated at boot."""

from __future__ import annotations

from typing import Any

import pytest

from rooms.web.origins import Origin, is_allowed, parse_origin
from videoroom_project.config import ConfigError, Env, read_allowed_origins

HOSTS = ["meet.example.com", "localhost", "127.0.0.1", "[::1]"]


def scope(
    origin: str | None, host: str | None, scheme: str = "ws", forwarded: str | None = None
) -> dict[str, Any]:
    headers = []
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if forwarded is not None:
        headers.append((b"x-forwarded-proto", forwarded.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


def test_origins_are_normalized_with_their_default_ports() -> None:
    assert parse_origin("https://Meet.Example.com") == Origin("https", "meet.example.com", 443)
    assert parse_origin("http://127.0.0.1:8000/") == Origin("http", "127.0.0.1", 8000)
    assert parse_origin("http://[::1]:8000") == Origin("http", "::1", 8000)
    assert str(parse_origin("http://[::1]:8000")) == "http://[::1]:8000"


@pytest.mark.parametrize(
    "text",
    ["null", "", "ftp://x", "https://", "https://a/path", "https://a?q", "https://u@a", "x:99999"],
)
def test_what_is_not_an_http_origin_is_refused(text: str) -> None:
    assert parse_origin(text) is None


@pytest.mark.parametrize(
    ("origin", "host", "extra"),
    [
        ("http://localhost:8000", "localhost:8000", {}),
        ("http://127.0.0.1", "127.0.0.1", {}),
        ("http://[::1]:8000", "[::1]:8000", {}),
        ("https://meet.example.com", "meet.example.com", {"scheme": "wss"}),
        # TLS ends at a proxy that says so.
        ("https://meet.example.com", "meet.example.com", {"forwarded": "https"}),
    ],
)
def test_a_same_origin_handshake_passes(origin: str, host: str, extra: dict[str, str]) -> None:
    assert is_allowed(scope(origin, host, **extra), (), HOSTS)[0]


@pytest.mark.parametrize(
    ("origin", "host", "extra"),
    [
        ("http://localhost:9000", "localhost:8000", {}),  # another port
        ("https://localhost:8000", "localhost:8000", {}),  # another scheme
        ("http://meet.example.com", "meet.example.com", {"forwarded": "https"}),
        ("http://evil.example", "evil.example", {}),  # same origin, host not allowed
        ("http://evil.example", "localhost", {}),
        ("null", "localhost", {}),
        ("http://localhost", None, {}),  # no Host: cannot be the same origin
    ],
)
def test_another_scheme_host_or_port_is_refused(
    origin: str, host: str | None, extra: dict[str, str]
) -> None:
    assert not is_allowed(scope(origin, host, **extra), (), HOSTS)[0]


def test_a_handshake_without_origin_is_accepted_as_a_non_browser_client() -> None:
    assert is_allowed(scope(None, "localhost"), (), HOSTS) == (True, "no Origin (not a browser)")


def test_listed_origins_replace_the_same_origin_rule() -> None:
    listed = ("https://meet.example.com", "http://localhost:5173")
    assert is_allowed(scope("https://meet.example.com:443", "internal:8000"), listed, HOSTS)[0]
    assert is_allowed(scope("http://localhost:5173", "localhost:8000"), listed, HOSTS)[0]
    assert not is_allowed(scope("http://localhost:8000", "localhost:8000"), listed, HOSTS)[0]
    assert not is_allowed(scope("http://meet.example.com", "meet.example.com"), listed, HOSTS)[0]


def test_the_setting_is_parsed_and_validated_at_boot() -> None:
    env = Env({"VIDEOROOM_ALLOWED_ORIGINS": "https://Meet.example.com, http://localhost:5173"})
    assert read_allowed_origins(env) == ("https://meet.example.com:443", "http://localhost:5173")
    assert read_allowed_origins(Env({})) == ()
    for bad in ("meet.example.com", "https://meet.example.com/room", "ws://x", "*"):
        with pytest.raises(ConfigError, match="VIDEOROOM_ALLOWED_ORIGINS"):
            read_allowed_origins(Env({"VIDEOROOM_ALLOWED_ORIGINS": bad}))
