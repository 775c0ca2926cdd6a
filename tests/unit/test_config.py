import pytest

from videoroom_project.config import ConfigError, Env, read_media_config, read_videoroom_settings


def test_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="ICE_PORT_RANGE"):
        read_media_config(Env({"ICE_PORT_RANGE": "50000-40000"}))
    with pytest.raises(ConfigError, match="EXTERNAL_IP"):
        read_media_config(Env({"EXTERNAL_IP": "not-an-ip"}))
    with pytest.raises(ConfigError, match="TURN_SECRET"):
        read_media_config(Env({"TURN_URLS": "turn:turn.example.org:3478"}))
    with pytest.raises(ConfigError, match="TURN_URLS"):
        read_media_config(Env({"TURN_URLS": "turn:h:3478?transport=sctp", "TURN_SECRET": "s"}))
    with pytest.raises(ConfigError, match="STUN_URLS"):
        read_media_config(Env({"STUN_URLS": "http://x"}))
    with pytest.raises(ConfigError, match="DJANGO_DEBUG"):
        Env({"DJANGO_DEBUG": "maybe"}).boolean("DJANGO_DEBUG")


def test_media_config_parses_valid_values() -> None:
    config = read_media_config(
        Env(
            {
                "ICE_PORT_RANGE": "40000-40100",
                "EXTERNAL_IP": "203.0.113.7",
                "STUN_URLS": "stun:127.0.0.1:3478",
                "TURN_URLS": "turn:127.0.0.1:3478?transport=udp",
                "TURN_SECRET": "s3cret",
            }
        )
    )
    assert config.port_range == (40000, 40100)
    assert config.external_ip == "203.0.113.7"
    assert config.stun_urls == ("stun:127.0.0.1:3478",)
    assert config.turn_secret == "s3cret"


def test_no_public_stun_server_by_default() -> None:
    config = read_media_config(Env({}))
    assert config.stun_urls == ()
    assert config.turn_urls == ()


def test_worker_stall_bound_defaults_to_30_s_and_refuses_less_than_2() -> None:
    assert read_videoroom_settings(Env({}))["WORKER_STALL_SECONDS"] == 30.0
    settings = read_videoroom_settings(Env({"VIDEOROOM_WORKER_STALL_SECONDS": "12.5"}))
    assert settings["WORKER_STALL_SECONDS"] == 12.5
    with pytest.raises(ConfigError, match="VIDEOROOM_WORKER_STALL_SECONDS"):
        read_videoroom_settings(Env({"VIDEOROOM_WORKER_STALL_SECONDS": "1"}))
