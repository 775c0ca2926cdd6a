import base64
import hashlib
import hmac
import time

import pytest

from rooms.ice import (
    TurnUrl,
    ice_servers,
    integrated_turn_servers,
    parse_turn_url,
    turn_credentials,
)
from rooms.sfu.config import MediaConfig


def test_turn_credentials_follow_coturn_rest_scheme() -> None:
    username, password = turn_credentials("secret", "peer1", ttl_seconds=3600, now=1_700_000_000)
    assert username == "1700003600:peer1"
    expected = base64.b64encode(
        hmac.new(b"secret", username.encode(), hashlib.sha1).digest()
    ).decode()
    assert password == expected


def test_no_servers_unless_configured() -> None:
    assert ice_servers("peer1", MediaConfig()) == []


def test_stun_and_turn_servers_are_listed() -> None:
    config = MediaConfig(
        stun_urls=("stun:127.0.0.1:3478",), turn_urls=("turn:127.0.0.1:3478",), turn_secret="s"
    )
    servers = ice_servers("peer1", config)
    assert servers[0] == {"urls": ["stun:127.0.0.1:3478"]}
    assert servers[1]["urls"] == ["turn:127.0.0.1:3478"]
    assert servers[1]["username"].endswith(":peer1")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("turn:127.0.0.1", TurnUrl("127.0.0.1", 3478, "udp")),
        ("turn:turn.example.org:3479?transport=udp", TurnUrl("turn.example.org", 3479, "udp")),
        ("turn:turn.example.org:443?transport=tcp", TurnUrl("turn.example.org", 443, "tcp")),
        ("turns:turn.example.org", TurnUrl("turn.example.org", 5349, "tls")),
        ("turns:turn.example.org:443?transport=tcp", TurnUrl("turn.example.org", 443, "tls")),
        ("turn:[2001:db8::1]:3478", TurnUrl("2001:db8::1", 3478, "udp")),
    ],
)
def test_turn_urls_are_split_as_rfc_7065_says(url: str, expected: TurnUrl) -> None:
    assert parse_turn_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "stun:127.0.0.1",
        "turn:",
        "turn:host:0",
        "turn:host:70000",
        "turn:host:x",
        "turn:host?transport=sctp",
        "turn:host?foo=1",
        "turns:host?transport=udp",
        "turn:[2001:db8::1",
        "turn:user@host",
    ],
)
def test_bad_turn_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_turn_url(url)


def test_integrated_turn_servers_have_the_membrane_client_shape() -> None:
    config = MediaConfig(
        turn_urls=(
            "turn:192.0.2.9:3478?transport=udp",
            "turn:192.0.2.9:3478?transport=tcp",
            "turns:turn.example.org:443?transport=tcp",
            "turn:[2001:db8::1]:3478",
        ),
        turn_secret="s",
        turn_ttl_seconds=600,
    )
    before = time.time()
    servers = integrated_turn_servers("peer1", config)
    assert [(s["serverAddr"], s["serverPort"], s["transport"]) for s in servers] == [
        ("192.0.2.9", 3478, "udp"),
        ("192.0.2.9", 3478, "tcp"),
        ("turn.example.org", 443, "tls"),
        ("[2001:db8::1]", 3478, "udp"),
    ]
    username = servers[0]["username"]
    expiry, user = username.split(":")
    assert user == "peer1"
    assert before + 600 <= int(expiry) + 1 <= time.time() + 601
    digest = hmac.new(b"s", username.encode(), hashlib.sha1).digest()
    assert all(s["password"] == base64.b64encode(digest).decode() for s in servers)
    assert all(
        set(s) == {"serverAddr", "serverPort", "transport", "username", "password"} for s in servers
    )


def test_no_integrated_turn_servers_unless_configured() -> None:
    assert integrated_turn_servers("peer1", MediaConfig()) == []
