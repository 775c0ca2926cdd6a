"""One load run: join the bots, warm up, measure one window, leave, summarize.

The window is bounded by two snapshots of every counter and of the watched server
processes (CPU seconds from /proc), so packets and CPU time cover the same interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import procstat
from bench.loadgen import tap
from bench.loadgen.bot import Bot, BotMedia
from bench.loadgen.stats import delta, percentile
from bench.media import audio_clip, video_clip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadConfig:
    """What to run: ``rooms`` rooms of ``participants`` bots each, against ``url``."""

    url: str
    protocol: str = "membrane"  # "membrane" | "janus"
    rooms: int = 1
    participants: int = 2
    duration: float = 30.0  # seconds measured
    warmup: float = 5.0  # seconds after the last join before measuring
    settle_timeout: float = 30.0  # at most this long waiting for every remote keyframe
    join_gap: float = 0.2  # seconds between joins, like people arriving
    room_prefix: str = "bench"
    video: bool = True
    audio: bool = True
    video_kbps: int = 1000
    host_addresses: tuple[str, ...] = ()
    watch_pids: tuple[int, ...] = ()
    janus_room: int = 1234
    join_probes: int = 0  # extra bots that join room 0 one by one after the window
    probe_timeout: float = 15.0


BotFactory = Callable[[str, BotMedia, str], Bot]


def bot_factory(config: LoadConfig) -> BotFactory:
    """Builds bots of ``config.protocol``; the third argument is the room name."""
    if config.protocol == "janus":
        from bench.loadgen.janus_bot import JanusBot

        def janus(name: str, media: BotMedia, room: str) -> Bot:
            index = int(room.rsplit("-", 1)[-1])
            return JanusBot(name, media, url=config.url, room=config.janus_room + index)

        return janus
    from bench.loadgen.membrane_bot import MembraneBot

    def membrane(name: str, media: BotMedia, room: str) -> Bot:
        return MembraneBot(name, media, url=config.url, room=room)

    return membrane


def prepare(config: LoadConfig) -> BotMedia:
    """Patch aiortc for counting and load (or encode once) the clips."""
    tap.install()
    if config.host_addresses:
        tap.use_host_addresses(list(config.host_addresses))
    return BotMedia(
        video=video_clip(bitrate=config.video_kbps * 1000) if config.video else None,
        audio=audio_clip() if config.audio else None,
    )


@dataclass
class _Window:
    streams: dict[tuple[str, str], dict[str, float | int]] = field(default_factory=dict)
    sent: dict[tuple[str, str], dict[str, float | int]] = field(default_factory=dict)
    procs: dict[int, procstat.ProcSample] = field(default_factory=dict)
    at: float = 0.0
    self_cpu: float = 0.0
    load: str = ""


def _snapshot(bots: list[Bot], pids: tuple[int, ...]) -> _Window:
    window = _Window(at=time.monotonic(), self_cpu=procstat.self_cpu_seconds())
    window.load = procstat.loadavg()
    for bot in bots:
        for track_id, stream in bot.streams.items():
            window.streams[(bot.name, track_id)] = stream.snapshot()
        for track in bot.tracks:
            window.sent[(bot.name, track.kind)] = track.stats.snapshot()
    for pid in pids:
        window.procs[pid] = procstat.sample(pid)
    return window


def _expected_streams(config: LoadConfig) -> int:
    kinds = int(config.video) + int(config.audio)
    return (config.participants - 1) * kinds


async def join_all(config: LoadConfig, media: BotMedia, factory: BotFactory) -> list[Bot]:
    """Start every bot, one after the other; a bot that fails to join is reported, not fatal."""
    bots: list[Bot] = []
    for room_index in range(config.rooms):
        room = f"{config.room_prefix}-{room_index}"
        for index in range(config.participants):
            bot = factory(f"bot-{room_index}-{index}", media, room)
            bots.append(bot)
            try:
                await bot.start()
            except Exception as exc:
                bot.error = f"join failed: {exc!r}"
                logger.warning("%s: %s", bot.name, bot.error)
            await asyncio.sleep(config.join_gap)
    return bots


async def settle(bots: list[Bot], expected: int, timeout: float) -> float:
    """Wait until every bot has a keyframe (video) or a frame (audio) from each remote track."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all(
            sum(
                1
                for s in bot.streams.values()
                if s.first_keyframe_at or (s.kind == "audio" and s.frames)
            )
            >= expected
            for bot in bots
        ):
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - start


async def run_load(config: LoadConfig) -> dict[str, Any]:
    """Run the whole load and return the summary (see ``summarize``)."""
    media = prepare(config)
    bots = await join_all(config, media, bot_factory(config))
    try:
        settle_s = await settle(bots, _expected_streams(config), config.settle_timeout)
        await asyncio.sleep(config.warmup)
        before = _snapshot(bots, config.watch_pids)
        await asyncio.sleep(config.duration)
        after = _snapshot(bots, config.watch_pids)
        latencies = {
            (bot.name, tid): stream.latencies_ms[
                int(before.streams.get((bot.name, tid), {}).get("latency_count", 0)) : int(
                    after.streams[(bot.name, tid)]["latency_count"]
                )
            ]
            for bot in bots
            for tid, stream in bot.streams.items()
        }
        result = summarize(config, bots, before, after, latencies)
        result["settle_seconds"] = round(settle_s, 2)
        if config.join_probes:
            room = bots[: config.participants]  # join_all starts room 0 first
            result["join_probes"] = await probe_joins(config, media, room)
            # Bots lost while the probes ran count as failures too.
            result["bots_failed"] = [f"{b.name}: {b.error}" for b in bots if b.error]
        return result
    finally:
        await asyncio.gather(*(bot.close() for bot in bots), return_exceptions=True)


async def probe_joins(config: LoadConfig, media: BotMedia, room: list[Bot]) -> list[dict[str, Any]]:
    """Join room 0 ``config.join_probes`` times, one bot at a time, timing each join.

    A probe's join time runs from its first request (``phx_join``, or Janus ``create``)
    to the first complete keyframe of any remote video track, and to the moment every
    remote video track has shown one. ``room`` are the bots already in room 0: once one
    of them has failed or gone silent, the room is no longer the one measured, so the
    remaining probes are not run (each would wait its limit for a publisher that is gone);
    their rows say so, and every row without a time carries its ``error``.
    """
    factory = bot_factory(config)
    expected_video = config.participants if config.video else 0
    probes: list[dict[str, Any]] = []
    for index in range(config.join_probes):
        name = f"probe-{index}"
        lost = _room_failures(room)
        if lost:
            probes.append(_probe_row(name, f"not run: {lost}"))
            continue
        bot = factory(name, media, f"{config.room_prefix}-0")
        error: str | None = None
        try:
            await bot.start()
            deadline = time.monotonic() + config.probe_timeout
            while time.monotonic() < deadline:
                if bot.all_remote_keyframes(expected_video) is not None:
                    break
                await asyncio.sleep(0.01)
        except Exception as exc:
            error = repr(exc)
        finally:
            row = _probe_row(name, error or bot.error, bot, expected_video)
            await bot.close()
        if row["error"] is None and row["all_keyframes_s"] is None:
            got = row["remote_video_keyframes"]
            row["error"] = (
                f"keyframes from {got} of {expected_video} remote video tracks "
                f"({row['remote_video_tracks']} offered) within {config.probe_timeout:g} s"
            )
        probes.append(row)
        await asyncio.sleep(config.join_gap)
    return probes


# A room bot that has received no frame of any remote track for this long is out of the room,
# whether or not its socket says so (audio alone brings a frame every 20 ms).
_SILENT_S = 3.0


def _room_failures(room: list[Bot]) -> str:
    """Why room 0 is no longer the room of N being measured, or "" while it is.

    A silent bot gets an ``error``, so that it is reported with the failed bots.
    """
    now = time.monotonic()
    for bot in room:
        heard = [s.last_frame_at for s in bot.streams.values() if s.last_frame_at]
        if not bot.error and heard and now - max(heard) > _SILENT_S:
            bot.error = f"no remote frame for {now - max(heard):.0f} s"
    lost = [f"{b.name}: {b.error}" for b in room if b.error]
    return f"room bots lost ({'; '.join(lost)})" if lost else ""


def _probe_row(
    name: str, error: str | None, bot: Bot | None = None, expected_video: int = 0
) -> dict[str, Any]:
    """One probe's times (None where not reached) and what it received."""
    videos = [s for s in bot.streams.values() if s.kind == "video"] if bot else []
    return {
        "name": name,
        "error": error,
        "first_video_packet_s": bot.first_remote_video_packet() if bot else None,
        "first_keyframe_s": bot.first_remote_keyframe() if bot else None,
        "all_keyframes_s": bot.all_remote_keyframes(expected_video) if bot else None,
        "signalled_s": bot.joined_at - bot.join_started if bot and bot.joined_at else None,
        "remote_video_tracks": len(videos),
        "remote_video_keyframes": sum(1 for s in videos if s.first_keyframe_at),
    }


def summarize(
    config: LoadConfig,
    bots: list[Bot],
    before: _Window,
    after: _Window,
    latencies: dict[tuple[str, str], list[float]],
) -> dict[str, Any]:
    """Totals over the window, per-stream rows and the watched processes' CPU."""
    seconds = after.at - before.at
    sent = {key: delta(after.sent[key], before.sent.get(key, {})) for key in after.sent}
    rows: list[dict[str, Any]] = []
    totals = {"packets": 0.0, "frames": 0.0, "expected_frames": 0.0, "expected_packets": 0.0}
    totals |= {"rtp_lost": 0.0, "frames_missed": 0.0, "freezes": 0.0, "bytes": 0.0}
    all_latency: dict[str, list[float]] = {"audio": [], "video": []}
    for bot in bots:
        for track_id, stream in bot.streams.items():
            key = (bot.name, track_id)
            got = delta(after.streams[key], before.streams.get(key, {}))
            source = sent.get((stream.publisher, stream.kind), {})
            for name in ("packets", "frames", "rtp_lost", "frames_missed", "freezes", "bytes"):
                totals[name] += got[name]
            totals["expected_frames"] += source.get("frames", 0.0)
            totals["expected_packets"] += source.get("packets", 0.0)
            lat = latencies.get(key, [])
            all_latency[stream.kind] += lat
            rows.append(
                {
                    "subscriber": bot.name,
                    "publisher": stream.publisher,
                    "kind": stream.kind,
                    **{k: int(v) for k, v in got.items() if k != "latency_count"},
                    "sent_frames": int(source.get("frames", 0)),
                    "latency_p50_ms": percentile(lat, 50),
                    "latency_p95_ms": percentile(lat, 95),
                }
            )
    both = all_latency["audio"] + all_latency["video"]
    procs = {
        str(pid): {
            "cpu_seconds": after.procs[pid].cpu_seconds - before.procs[pid].cpu_seconds,
            "cpu_percent": 100
            * (after.procs[pid].cpu_seconds - before.procs[pid].cpu_seconds)
            / seconds,
            "rss_mb": after.procs[pid].rss_bytes / 2**20,
        }
        for pid in after.procs
    }
    server_cpu = sum(p["cpu_seconds"] for p in procs.values())
    packets = totals["packets"]
    joins = [bot.first_remote_keyframe() for bot in bots]
    return {
        "protocol": config.protocol,
        "rooms": config.rooms,
        "participants": config.participants,
        "bots_failed": [f"{b.name}: {b.error}" for b in bots if b.error],
        "window_seconds": round(seconds, 3),
        "load_before": before.load,
        "load_after": after.load,
        "sent_frames": sum(s["frames"] for s in sent.values()),
        "sent_packets": sum(s["packets"] for s in sent.values()),
        "received": {k: int(v) for k, v in totals.items()},
        "received_pps": packets / seconds,
        "received_mbps": 8 * totals["bytes"] / seconds / 1e6,
        "frames_delivered": totals["frames"] / totals["expected_frames"]
        if totals["expected_frames"]
        else None,
        "packets_delivered": packets / totals["expected_packets"]
        if totals["expected_packets"]
        else None,
        "latency_ms": {
            kind: {
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "max": max(values) if values else None,
                "count": len(values),
            }
            for kind, values in (("all", both), *all_latency.items())
        },
        "server_processes": procs,
        "server_cpu_percent": 100 * server_cpu / seconds,
        "server_us_per_forwarded_packet": 1e6 * server_cpu / packets if packets else None,
        "loadgen_cpu_percent": 100 * (after.self_cpu - before.self_cpu) / seconds,
        "join_to_first_keyframe_s": [round(j, 3) if j is not None else None for j in joins],
        "streams": rows,
    }
