"""The remote-address policy for ICE checks and its configuration (ICE_ALLOWED_REMOTE_NETWORKS)."""

from __future__ import annotations

import pytest

from rooms.sfu.addresses import RemoteAddressPolicy, policy_for
from rooms.sfu.config import ALWAYS_DENIED, DEBUG_DENIED, PRODUCTION_DENIED, MediaConfig
from videoroom_project.config import ConfigError, Env, read_media_config

REFUSED_IN_PRODUCTION = [
    "127.0.0.1",
    "127.255.0.9",
    "::1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "fe80::1",
    "fe80::1%eth0",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "224.0.0.251",
    "ff02::fb",
    "0.0.0.0",
    "::",
    "255.255.255.255",
    "::ffff:127.0.0.1",  # IPv4-mapped: judged as the IPv4 address it reaches
    "::ffff:169.254.169.254",
    "host.example",
    "abc.local",
    "",
]
ALLOWED_IN_PRODUCTION = ["192.0.2.9", "203.0.113.7", "10.1.2.3", "fd00::2", "2001:db8::1"]


@pytest.mark.parametrize("host", REFUSED_IN_PRODUCTION)
def test_production_default_refuses(host: str) -> None:
    assert not policy_for(MediaConfig()).allows(host)


@pytest.mark.parametrize("host", ALLOWED_IN_PRODUCTION)
def test_production_default_allows_unicast_peers(host: str) -> None:
    assert policy_for(MediaConfig()).allows(host)


def test_debug_default_allows_loopback_only_in_addition() -> None:
    config = read_media_config(Env({"DJANGO_DEBUG": "true"}))
    assert config.allowed_remote_networks == ()
    assert config.denied_remote_networks == DEBUG_DENIED
    policy = policy_for(config)
    assert policy.allows("127.0.0.1") and policy.allows("::1")
    assert not policy.allows("169.254.169.254") and not policy.allows("fd00:ec2::254")


def test_production_is_the_default_without_django_debug() -> None:
    config = read_media_config(Env({}))
    assert (
        config.denied_remote_networks == PRODUCTION_DENIED == MediaConfig().denied_remote_networks
    )


def test_an_explicit_list_is_exactly_what_is_allowed() -> None:
    config = read_media_config(Env({"ICE_ALLOWED_REMOTE_NETWORKS": "10.0.0.0/8, 127.0.0.1"}))
    assert config.allowed_remote_networks == ("10.0.0.0/8", "127.0.0.1/32")
    assert config.denied_remote_networks == ALWAYS_DENIED
    policy = policy_for(config)
    assert policy.allows("10.9.9.9") and policy.allows("127.0.0.1")
    assert not policy.allows("127.0.0.2") and not policy.allows("192.0.2.9")
    assert not policy.allows("fd00::2")


def test_everything_unicast_can_be_allowed() -> None:
    policy = RemoteAddressPolicy(["0.0.0.0/0", "::/0"], ALWAYS_DENIED)
    assert policy.allows("127.0.0.1") and policy.allows("169.254.169.254")
    assert not policy.allows("224.0.0.1") and not policy.allows("0.0.0.0")


@pytest.mark.parametrize("value", ["10.0.0.0/33", "not-a-net", "10.0.0.0/8,bogus", ",", " , "])
def test_bad_networks_name_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="ICE_ALLOWED_REMOTE_NETWORKS"):
        read_media_config(Env({"ICE_ALLOWED_REMOTE_NETWORKS": value}))


def test_empty_value_means_the_default() -> None:
    config = read_media_config(Env({"ICE_ALLOWED_REMOTE_NETWORKS": ""}))
    assert config.denied_remote_networks == PRODUCTION_DENIED
