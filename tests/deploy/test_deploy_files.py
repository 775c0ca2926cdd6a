"""The deployment files deploy as written, checked as far as a machine without a
container engine allows: the compose file validates offline with Debian's
docker-compose, .dockerignore keeps secrets and local state out of the image,
scripts/init-env.sh writes an .env the settings accept, Caddy accepts its config,
and the README's deploy steps run up to the first one that needs Docker.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INIT_ENV = ROOT / "scripts" / "init-env.sh"


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def init_env(directory: Path, *args: str) -> dict[str, str]:
    done = subprocess.run(
        [str(INIT_ENV), "--output", str(directory / ".env"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return read_env(directory / ".env")


def deploy_copy(tmp_path: Path) -> Path:
    """The files docker-compose.yml names, in a directory of their own."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    return tmp_path


def compose(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (Debian package docker-compose) is not installed")
    return subprocess.run(
        [binary, *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": str(directory)},
    )


@pytest.fixture
def resolved(tmp_path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """docker-compose config of every service, with a generated .env."""
    directory = deploy_copy(tmp_path)
    env = init_env(directory, "video.example.org", "203.0.113.7")
    done = compose(directory, "--profile", "worker-2", "--profile", "monitoring", "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout), env


def test_compose_file_validates_offline(resolved: tuple[dict[str, Any], dict[str, str]]) -> None:
    config, _ = resolved
    assert {"redis", "db", "migrate", "web", "worker", "worker-2", "caddy", "turn"} <= set(
        config["services"]
    )
    assert {"prometheus", "grafana"} <= set(config["services"])


def test_redis_and_postgres_are_reachable_from_this_host_only_with_generated_passwords(
    resolved: tuple[dict[str, Any], dict[str, str]],
) -> None:
    config, env = resolved
    services = config["services"]
    for name in ("redis", "db", "prometheus", "grafana"):
        for port in services[name].get("ports", []):
            host_ip = port["host_ip"] if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", (name, port)
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    assert len(env["POSTGRES_PASSWORD"]) >= 32 and len(env["REDIS_PASSWORD"]) >= 32
    for name in ("web", "worker", "worker-2", "migrate"):
        environment = services[name]["environment"]
        assert f":{env['REDIS_PASSWORD']}@" in environment["REDIS_URL"]
        assert f":{env['POSTGRES_PASSWORD']}@" in environment["DATABASE_URL"]
    assert "videoroom:videoroom@" not in json.dumps(config)


def test_long_running_services_have_healthchecks_with_retries_and_start_periods(
    resolved: tuple[dict[str, Any], dict[str, str]],
) -> None:
    services = resolved[0]["services"]
    for name in ("web", "worker", "worker-2", "db", "redis"):
        check = services[name]["healthcheck"]
        assert check["retries"] >= 3 and check["start_period"], name
    assert "http://127.0.0.1:8000/healthz" in services["web"]["healthcheck"]["test"]
    worker_port = services["worker"]["environment"]["VIDEOROOM_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{worker_port}/healthz" in services["worker"]["healthcheck"]["test"]
    second_port = services["worker-2"]["environment"]["VIDEOROOM_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{second_port}/healthz" in services["worker-2"]["healthcheck"]["test"]
    assert services["caddy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_workers_on_one_host_get_distinct_port_ranges_and_metrics_ports(
    resolved: tuple[dict[str, Any], dict[str, str]],
) -> None:
    services = resolved[0]["services"]
    first, second = services["worker"]["environment"], services["worker-2"]["environment"]
    assert first["ICE_PORT_RANGE"] != second["ICE_PORT_RANGE"]
    low1, high1 = map(int, first["ICE_PORT_RANGE"].split("-"))
    low2, high2 = map(int, second["ICE_PORT_RANGE"].split("-"))
    assert high1 < low2 or high2 < low1
    assert first["VIDEOROOM_WORKER_METRICS_PORT"] != second["VIDEOROOM_WORKER_METRICS_PORT"]
    assert first["EXTERNAL_IP"] == second["EXTERNAL_IP"] == "203.0.113.7"
    for name in ("worker", "worker-2", "turn"):
        assert services[name]["network_mode"] == "host"
    prometheus = (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()
    for environment in (first, second):
        assert f":{environment['VIDEOROOM_WORKER_METRICS_PORT']}" in prometheus


def test_coturn_uses_the_shared_secret_from_env(
    resolved: tuple[dict[str, Any], dict[str, str]],
) -> None:
    config, env = resolved
    coturn = config["services"]["turn"]
    command = " ".join(coturn["command"])
    # "$$": compose's escape; the container's shell reads TURN_SECRET from its environment.
    assert "--use-auth-secret" in command and '--static-auth-secret="$$TURN_SECRET"' in command
    assert coturn["environment"]["TURN_SECRET"] == env["TURN_SECRET"]
    assert coturn["environment"]["TURN_EXTERNAL_IP"] == "203.0.113.7"
    assert "--denied-peer-ip=10.0.0.0-10.255.255.255" in command  # no relaying inward
    assert env["TURN_URLS"].startswith("turn:video.example.org:3478")


def test_caddy_terminates_tls_for_the_domain_and_proxies_to_every_web_replica(
    resolved: tuple[dict[str, Any], dict[str, str]], tmp_path: Path
) -> None:
    caddy = resolved[0]["services"]["caddy"]
    assert caddy["environment"]["VIDEOROOM_DOMAIN"] == "video.example.org"
    assert "web" not in {
        str(p).split(":")[0] for p in resolved[0]["services"]["web"].get("ports", [])
    }
    binary = shutil.which("caddy")
    if binary is None:
        pytest.skip("caddy is not installed: the Caddyfile is not validated")
    for tls in ("acme", "internal"):
        done = subprocess.run(
            [
                binary,
                "validate",
                "--adapter",
                "caddyfile",
                "--config",
                str(ROOT / "deploy" / "caddy" / "Caddyfile"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(tmp_path),
                "XDG_DATA_HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path),
                "VIDEOROOM_DOMAIN": "video.example.org",
                "VIDEOROOM_TLS": tls,
            },
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".git", ".venv", "**/node_modules", "db.sqlite3", ".env", "test-artifacts"):
        assert required in patterns, required
    assert "!.env.example" in patterns  # documentation, no secrets
    assert ".pytest_cache" in patterns and "**/__pycache__" in patterns


def settings_env(env_file: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Only the .env's values and what Python needs: nothing of this shell leaks in."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
    return {**keep, **env_file, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}


def test_init_env_writes_an_env_the_settings_accept(tmp_path: Path) -> None:
    env = init_env(tmp_path, "video.example.org", "203.0.113.7")
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # secrets readable by the owner only
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.VIDEOROOM_MEDIA.turn_urls, "
        "s.VIDEOROOM_MEDIA.external_ip, s.VIDEOROOM_OPS['LOG_FORMAT']]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**settings_env(env, tmp_path), "DJANGO_SETTINGS_MODULE": "videoroom_project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    debug, hosts, turn_urls, external_ip, log_format = json.loads(done.stdout.splitlines()[-1])
    assert debug is False and hosts == ["video.example.org", "localhost"]
    assert turn_urls[0] == "turn:video.example.org:3478?transport=udp"
    assert (external_ip, log_format) == ("203.0.113.7", "json")
    assert (
        env["DJANGO_SECRET_KEY"] != init_env(tmp_path / "..", "x.example.org")["DJANGO_SECRET_KEY"]
    )


def test_init_env_for_a_lan_uses_caddys_internal_ca_and_never_overwrites(tmp_path: Path) -> None:
    env = init_env(tmp_path, "--lan", "192.168.1.20")
    assert (env["VIDEOROOM_TLS"], env["VIDEOROOM_DOMAIN"]) == ("internal", "192.168.1.20")
    assert env["TURN_ALLOWED_PEER_IP"] == "192.168.1.20"  # TURN may relay to the LAN workers
    again = subprocess.run(
        [str(INIT_ENV), "--output", str(tmp_path / ".env"), "--lan", "192.168.1.20"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert again.returncode == 1 and "--force" in again.stderr
    assert read_env(tmp_path / ".env") == env


def readme_deploy_commands() -> list[str]:
    """The shell lines of README.md's "Deploy it" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Deploy it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_readme_deploy_steps_run_until_docker_is_needed(tmp_path: Path) -> None:
    """Runs each step that needs no container engine; checks the others name real things.

    `docker-compose up`, `logs`, `exec` need a Docker engine, which this machine lacks:
    for those the services, profiles and commands they name must exist in the compose file.
    """
    directory = deploy_copy(tmp_path)
    shutil.copy(ROOT / ".env.example", directory)
    (directory / "scripts").mkdir()
    shutil.copy(INIT_ENV, directory / "scripts")
    commands = readme_deploy_commands()
    assert any(c.startswith("scripts/init-env.sh") for c in commands)
    config: dict[str, Any] | None = None
    for command in commands:
        words = shlex.split(command)
        if words[0] == "scripts/init-env.sh":
            done = subprocess.run(
                ["bash", *words], cwd=directory, capture_output=True, text=True, timeout=30
            )
            assert done.returncode == 0, (command, done.stderr)
        elif words[0] == "docker-compose":
            profiles = [
                arg for i, w in enumerate(words) if w == "--profile" for arg in (w, words[i + 1])
            ]
            full = compose(directory, *profiles, "config")
            assert full.returncode == 0, (command, full.stderr)
            config = yaml.safe_load(full.stdout)
            services = set(config["services"])
            for before, word in itertools.pairwise(words):
                if before == "--scale":
                    assert word.split("=")[0] in services, command
                if before in ("logs", "exec"):
                    assert word in services, command
        else:
            pytest.fail(f"README deploy step not understood by this test: {command}")
    assert config is not None
