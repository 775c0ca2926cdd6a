import pytest

from rooms.redis_target import SentinelTarget
from videoroom_project.config import (
    ConfigError,
    Env,
    read_media_config,
    read_redis_sentinel,
    read_videoroom_settings,
)


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


def test_redis_sentinels_are_parsed_into_a_sentinel_target() -> None:
    target = read_redis_sentinel(
        Env(
            {
                "VIDEOROOM_REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380,[fd00::3]:26379",
                "VIDEOROOM_REDIS_SENTINEL_MASTER": "videoroom",
                "VIDEOROOM_REDIS_PASSWORD": "s3cret",
                "VIDEOROOM_REDIS_DB": "2",
            }
        ),
        redis_url="",
    )
    assert target == SentinelTarget(
        (("10.0.0.1", 26379), ("sentinel-b", 26380), ("fd00::3", 26379)), "videoroom", "s3cret", 2
    )
    assert target.layer_host(socket_timeout=30) == {
        "sentinels": [("10.0.0.1", 26379), ("sentinel-b", 26380), ("fd00::3", 26379)],
        "master_name": "videoroom",
        "sentinel_kwargs": {"socket_timeout": 2.0, "socket_connect_timeout": 2.0},
        "password": "s3cret",
        "db": 2,
        "socket_timeout": 30,
    }


def test_no_sentinels_is_no_sentinel_target_and_the_master_name_has_a_default() -> None:
    assert read_redis_sentinel(Env({}), redis_url="redis://127.0.0.1:6379/0") is None
    target = read_redis_sentinel(Env({"VIDEOROOM_REDIS_SENTINELS": "s1:26379"}), redis_url="")
    assert target is not None
    assert (target.master, target.password, target.db) == ("mymaster", None, 0)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"VIDEOROOM_REDIS_SENTINELS": "s1"}, "VIDEOROOM_REDIS_SENTINELS"),
        ({"VIDEOROOM_REDIS_SENTINELS": "s1:port"}, "VIDEOROOM_REDIS_SENTINELS"),
        ({"VIDEOROOM_REDIS_SENTINELS": "s1:70000"}, "VIDEOROOM_REDIS_SENTINELS"),
        ({"VIDEOROOM_REDIS_SENTINELS": ":26379"}, "VIDEOROOM_REDIS_SENTINELS"),
        (
            {"VIDEOROOM_REDIS_SENTINELS": "s1:26379", "VIDEOROOM_REDIS_SENTINEL_MASTER": "a b"},
            "VIDEOROOM_REDIS_SENTINEL_MASTER",
        ),
        (
            {"VIDEOROOM_REDIS_SENTINELS": "s1:26379", "VIDEOROOM_REDIS_DB": "16"},
            "VIDEOROOM_REDIS_DB",
        ),
    ],
)
def test_bad_sentinel_settings_name_their_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        read_redis_sentinel(Env(environ), redis_url="")


def test_sentinels_and_a_redis_url_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="either REDIS_URL or VIDEOROOM_REDIS_SENTINELS"):
        read_redis_sentinel(
            Env({"VIDEOROOM_REDIS_SENTINELS": "s1:26379"}), redis_url="redis://127.0.0.1:6379/0"
        )
