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


def test_room_auto_create_defaults_true_and_reads_its_old_name_as_an_alias() -> None:
    def auto_create(env: dict[str, str]) -> bool:
        return read_videoroom_settings(Env(env))["AUTO_CREATE_ROOMS"]

    assert auto_create({}) is True
    assert auto_create({"VIDEOROOM_ROOM_AUTO_CREATE": "false"}) is False
    assert auto_create({"VIDEOROOM_AUTO_CREATE_ROOMS": "false"}) is False
    # The new name wins over the old one.
    env = {"VIDEOROOM_ROOM_AUTO_CREATE": "true", "VIDEOROOM_AUTO_CREATE_ROOMS": "false"}
    assert auto_create(env) is True
    with pytest.raises(ConfigError, match="VIDEOROOM_ROOM_AUTO_CREATE"):
        auto_create({"VIDEOROOM_ROOM_AUTO_CREATE": "sometimes"})


def test_turn_credentials_last_two_hours_by_default_and_a_day_at_most() -> None:
    assert read_media_config(Env({})).turn_ttl_seconds == 7200
    assert read_media_config(Env({"TURN_TTL_SECONDS": "600"})).turn_ttl_seconds == 600
    with pytest.raises(ConfigError, match="TURN_TTL_SECONDS"):
        read_media_config(Env({"TURN_TTL_SECONDS": "604800"}))
