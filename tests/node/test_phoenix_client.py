"""The official phoenix npm client (under Node 20, over `ws`) against a real daphne.

One daphne in the embedded default (in-memory layer, room worker inside daphne) with
rooms auto-creation off, so that "room not found" is reachable; the rooms the
script uses are created in the SQLite file beforehand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daphne import embedded_env, manage, running_daphne

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).resolve().parent
SCRIPT_TIMEOUT_SECONDS = 150

CREATE_ROOMS = (
    "from rooms.models import Room; "
    "Room.objects.create(name='main'); "
    "Room.objects.create(name='full', max_participants=1); "
    "Room.objects.create(name='locked', locked=True)"
)
PIN = "2468"
ATTEMPTS_PER_MINUTE = 3
# A users room with one member group; prints "cookie cookie" for the member and a stranger.
USERS_AND_SESSIONS = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from rooms.models import Room
room = Room.objects.get(name='staff')
team = Group.objects.create(name='team')
room.allowed_groups.add(team)
def cookie(name):
    user = User.objects.create_user(name, password='unused-password-1')
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return user, f'{settings.SESSION_COOKIE_NAME}={session.session_key}'
member, member_cookie = cookie('member')
member.groups.add(team)
stranger, stranger_cookie = cookie('stranger')
print(member_cookie, stranger_cookie)
"""
EXPIRED_TOKEN = "from rooms import tokens; print(tokens.issue('tokenroom', 'late', ttl=60, now=0))"


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def policies(env: dict[str, str]) -> dict[str, Any]:
    """Rooms of each policy (made with createroom), tokens (roomtoken) and sessions."""
    manage(env, "createroom", "pinroom", "--policy", "pin", "--pin", PIN)
    manage(env, "createroom", "tokenroom", "--policy", "token")
    manage(env, "createroom", "staff", "--policy", "users")
    # The last line: Django's shell first says what it imported.
    member_cookie, stranger_cookie = last_line(
        manage(env, "shell", "-c", USERS_AND_SESSIONS)
    ).split()
    token = manage(env, "roomtoken", "tokenroom", "--identity", "node", "--ttl", "600").strip()
    head, _, signature = token.rpartition(":")
    return {
        "pinRoom": "pinroom",
        "pin": PIN,
        "attemptsPerMinute": ATTEMPTS_PER_MINUTE,
        "tokenRoom": "tokenroom",
        "token": token,
        "tamperedToken": f"{head}:{signature[::-1]}",
        "expiredToken": last_line(manage(env, "shell", "-c", EXPIRED_TOKEN)),
        "otherRoomToken": manage(env, "roomtoken", "main", "--identity", "node").strip(),
        "newRoom": "brandnew",
        "newRoomToken": manage(env, "roomtoken", "brandnew", "--identity", "node").strip(),
        "usersRoom": "staff",
        "memberCookie": member_cookie,
        "strangerCookie": stranger_cookie,
    }


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the script once against a fresh server; what it printed, parsed."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "phoenix").is_dir():
        pytest.fail("Node 20 and `npm ci` in tests/node are required (scripts/test.sh does it)")
    workdir = tmp_path_factory.mktemp("node-client")
    env = embedded_env(
        workdir / "db.sqlite3",
        VIDEOROOM_ROOM_AUTO_CREATE="false",
        VIDEOROOM_LIMIT_FAILED_ATTEMPTS_PER_MINUTE_PER_ADDRESS_ROOM=str(ATTEMPTS_PER_MINUTE),
    )
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", CREATE_ROOMS)
    credentials = policies(env)
    with running_daphne(env, workdir / "daphne.log") as server:
        config = {
            "url": server.socket_url,
            "origin": server.origin,
            "room": "main",
            "fullRoom": "full",
            "lockedRoom": "locked",
            "missingRoom": "nowhere",
            "policies": credentials,
            "timeoutMs": 30000,
        }
        done = subprocess.run(
            [node, "phoenix_client.mjs", json.dumps(config)],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_SECONDS,
        )
        output = done.stdout.strip().splitlines()
        assert done.returncode == 0 and output, f"{done.stderr}\n{server.log()}"
        result: dict[str, Any] = json.loads(output[-1])
        assert "error" not in result, f"{result['error']}\n{server.log()}"
        yield result


def test_both_peers_join_with_a_peer_id_and_ice_servers(observed: dict[str, Any]) -> None:
    room = observed["room"]
    for join in (room["annJoin"], room["bobJoin"]):
        assert join["status"] == "ok"
        assert set(join["response"]) == {"peerId", "iceServers", "grants"}
    assert room["annJoin"]["response"]["peerId"] != room["bobJoin"]["response"]["peerId"]


def test_connect_media_event_is_answered_connected_with_the_peer_id(
    observed: dict[str, Any],
) -> None:
    room = observed["room"]
    ann_id = room["annJoin"]["response"]["peerId"]
    bob_id = room["bobJoin"]["response"]["peerId"]
    assert room["annConnected"]["data"]["id"] == ann_id
    assert room["bobConnected"]["data"]["id"] == bob_id
    others = [endpoint["id"] for endpoint in room["bobConnected"]["data"]["otherEndpoints"]]
    assert others == [ann_id]


def test_the_other_peer_sees_endpoint_added_then_removed_on_leave(
    observed: dict[str, Any],
) -> None:
    room = observed["room"]
    bob_id = room["bobJoin"]["response"]["peerId"]
    assert room["annSawEndpointAdded"]["data"]["id"] == bob_id
    assert room["annSawEndpointRemoved"]["data"]["id"] == bob_id


def test_heartbeats_are_answered(observed: dict[str, Any]) -> None:
    assert observed["room"]["heartbeatReplies"] >= 3
    assert observed["room"]["pingRttMs"] >= 0


def test_leave_is_answered_ok_and_followed_by_phx_close(observed: dict[str, Any]) -> None:
    assert observed["room"]["bobLeave"] == "ok"
    assert observed["room"]["bobGotPhxClose"] is True


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("full", "room full"),
        ("locked", "room locked"),
        ("missing", "room not found"),
        ("invalidParams", "invalid params"),
        ("invalidRoom", "invalid room name"),
    ],
)
def test_join_refusals_reach_the_clients_error_hook(
    observed: dict[str, Any], case: str, reason: str
) -> None:
    assert observed["refusals"]["fullHolder"]["status"] == "ok"
    assert observed["refusals"][case] == {"status": "error", "response": {"reason": reason}}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("pinMissing", "pin required"),
        ("pinWrong", "wrong pin"),
        ("pinRight", None),
        ("pinRateLimited", "too many attempts"),
        ("tokenMissing", "token required"),
        ("tokenValid", None),
        ("tokenTampered", "token invalid"),
        ("tokenExpired", "token expired"),
        ("tokenOtherRoom", "token for another room"),
        ("tokenCreates", None),
        ("usersAnonymous", "login required"),
        ("usersMember", None),
        ("usersStranger", "not allowed"),
    ],
)
def test_each_join_policy_answers_the_official_client(
    observed: dict[str, Any], case: str, reason: str | None
) -> None:
    reply = observed["policies"][case]
    if reason is None:
        assert reply["status"] == "ok", reply
        assert reply["response"]["grants"] == ["publish", "subscribe"]
    else:
        assert reply == {"status": "error", "response": {"reason": reason}}
