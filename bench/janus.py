"""Run Debian's Janus 1.1.2 VideoRoom for a bench run, inside a private network namespace.

Janus never gathers ICE candidates on a loopback interface (src/ice.c skips IFF_LOOPBACK),
so it runs in a namespace of its own: ``lo`` plus a veth pair whose two ends both stay
inside (one end 10.77.0.1/24; this kernel has no ``dummy`` module). The bots run in the
same namespace (``ip netns exec``), so no packet leaves this machine. Only the videoroom
plugin and the WebSocket transport are loaded, from a generated configuration folder.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.stack import START_TIMEOUT

LIBDIR = Path("/usr/lib/x86_64-linux-gnu/janus")
NETNS = "vrbench"
VETH = "vrb0"
ADDRESS = "10.77.0.1"
WS_PORT = 8188
FIRST_ROOM = 1234
ROOMS = 16  # rooms 1234 .. 1249 are configured


@dataclass(frozen=True)
class Janus:
    """A running Janus: its URL (inside ``netns``), pid, and the namespace to run bots in."""

    url: str
    pid: int
    netns: str
    address: str


def ensure_installed() -> str | None:
    """Install Debian's janus package if missing; None when usable, else why not."""
    if shutil.which("janus") and (LIBDIR / "plugins" / "libjanus_videoroom.so").exists():
        return None
    result = subprocess.run(
        ["apt-get", "install", "-y", "janus"], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        return f"apt-get install janus failed: {result.stderr.strip()[-300:]}"
    return None if shutil.which("janus") else "janus not on PATH after install"


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


def setup_netns() -> None:
    """Create the namespace with lo up and the veth pair (idempotent)."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    if NETNS not in names.split():
        _run("ip", "netns", "add", NETNS)
    inside = ["ip", "netns", "exec", NETNS]
    _run(*inside, "ip", "link", "set", "lo", "up")
    links = subprocess.run([*inside, "ip", "-br", "link"], capture_output=True, text=True).stdout
    if VETH not in links:
        _run(*inside, "ip", "link", "add", VETH, "type", "veth", "peer", "name", VETH + "p")
        _run(*inside, "ip", "addr", "add", f"{ADDRESS}/24", "dev", VETH)
    _run(*inside, "ip", "link", "set", VETH, "up")
    _run(*inside, "ip", "link", "set", VETH + "p", "up")


def _write_config(folder: Path, event_loops: int) -> None:
    plugins = sorted(
        p.name
        for p in (LIBDIR / "plugins").glob("libjanus_*.so")
        if p.name != "libjanus_videoroom.so"
    )
    transports = sorted(
        p.name
        for p in (LIBDIR / "transports").glob("libjanus_*.so")
        if p.name != "libjanus_websockets.so"
    )
    empty = folder / "empty"
    empty.mkdir()
    loops = f"\tevent_loops = {event_loops}\n" if event_loops else ""
    (folder / "janus.jcfg").write_text(
        "general: {\n"
        f'\tconfigs_folder = "{folder}"\n'
        f'\tplugins_folder = "{LIBDIR / "plugins"}"\n'
        f'\ttransports_folder = "{LIBDIR / "transports"}"\n'
        f'\tevents_folder = "{empty}"\n'
        f'\tloggers_folder = "{empty}"\n'
        "\tdebug_level = 3\n"
        "\tsession_timeout = 60\n"
        f"{loops}"
        "}\n"
        f'plugins: {{\n\tdisable = "{",".join(plugins)}"\n}}\n'
        f'transports: {{\n\tdisable = "{",".join(transports)}"\n}}\n'
        'media: {\n\trtp_port_range = "20000-40000"\n}\n'
        f'nat: {{\n\tice_enforce_list = "{VETH}"\n}}\n'
    )
    (folder / "janus.transport.websockets.jcfg").write_text(
        'general: {\n\tjson = "compact"\n\tws = true\n'
        f'\tws_port = {WS_PORT}\n\tws_ip = "127.0.0.1"\n}}\n'
        "admin: {\n\tadmin_ws = false\n}\n"
    )
    rooms = "".join(
        f"room-{room}: {{\n"
        '\tdescription = "bench"\n\tpublishers = 64\n\tbitrate = 0\n\tfir_freq = 0\n'
        '\taudiocodec = "opus"\n\tvideocodec = "vp8"\n}\n'
        for room in range(FIRST_ROOM, FIRST_ROOM + ROOMS)
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n" + rooms)


def _listening() -> bool:
    probe = (
        "import socket,sys\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {WS_PORT}), 0.5).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    return subprocess.run(["ip", "netns", "exec", NETNS, "python3", "-c", probe]).returncode == 0


@contextlib.contextmanager
def running_janus(event_loops: int = 0, log_path: Path | None = None) -> Iterator[Janus]:
    """Start janus in the bench namespace; ``event_loops`` > 0 shares that many loop threads."""
    setup_netns()
    folder = Path(tempfile.mkdtemp(prefix="videoroom-janus-"))
    _write_config(folder, event_loops)
    log = (log_path or folder / "janus.log").open("wb")
    process = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            NETNS,
            "janus",
            "-F",
            str(folder),
            "-C",
            str(folder / "janus.jcfg"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening():
            if process.poll() is not None:
                raise RuntimeError(f"janus exited with {process.returncode}, see its log")
            if time.monotonic() > deadline:
                raise RuntimeError("janus did not listen within the start timeout")
            time.sleep(0.3)
        # `ip netns exec` execs janus in place, so the pid is janus's own.
        yield Janus(f"ws://127.0.0.1:{WS_PORT}", process.pid, NETNS, ADDRESS)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
