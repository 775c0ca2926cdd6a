import base64
import hashlib
import hmac

from rooms.ice import ice_servers, turn_credentials
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
