"""A bystander's heartbeat round trip while one socket sends the largest allowed offers.

Starts daphne in the embedded default (the room worker on daphne's own event loop: the
worst case, as every offer's aiortc work then delays every socket of the process), joins
a bystander that sends a Phoenix heartbeat every 100 ms, and an attacker in another room
that sends the largest offer the bounds allow once a second: either renegotiating one
connection (``--mode renegotiate``) or, to pay for 63 new transceivers every time,
disconnecting and connecting again before each offer (``--mode fresh``).

    DJANGO_DEBUG=false DJANGO_SECRET_KEY=x REDIS_URL= .venv/bin/python \\
        scripts/heartbeat_under_offers.py --seconds 30 --mode renegotiate
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sdp_cost import largest_offer  # noqa: E402

from rooms.limits import Limits  # noqa: E402
from tests.support.daphne import embedded_env, manage, running_daphne  # noqa: E402


class Client:
    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.ref = 0
        self.waiting: dict[str, asyncio.Future[Any]] = {}
        self.media: list[dict[str, Any]] = []

    async def open(self) -> None:
        self.ws = await websockets.connect(
            f"{self.url}/websocket?vsn=2.0.0", origin=self.origin, max_size=None
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            _, ref, _, event, payload = json.loads(raw)
            if event == "phx_reply" and ref in self.waiting:
                self.waiting.pop(ref).set_result(payload)
            elif event == "mediaEvent":
                self.media.append(json.loads(payload["data"]))

    async def call(self, topic: str, event: str, payload: dict[str, Any], join_ref: Any) -> Any:
        self.ref += 1
        ref = str(self.ref)
        future = asyncio.get_running_loop().create_future()
        self.waiting[ref] = future
        await self.ws.send(json.dumps([join_ref, ref, topic, event, payload]))
        return await future

    async def push(self, topic: str, event: str, payload: dict[str, Any], join_ref: Any) -> None:
        self.ref += 1
        await self.ws.send(json.dumps([join_ref, str(self.ref), topic, event, payload]))


async def attacker(url: str, origin: str, mode: str, stop: asyncio.Event) -> int:
    client = Client(url, origin)
    await client.open()
    topic = "room:attack"
    reply = await client.call(topic, "phx_join", {"displayName": "Mallory"}, "1")
    peer_id = reply["response"]["peerId"]
    sdp, mids = largest_offer(Limits())
    count = Limits().offer_media_sections
    while len(sdp.encode()) > Limits().sdp_bytes:
        count -= 1
        sdp, mids = largest_offer(Limits(), count)
    mids = {mid: f"{peer_id}:{mid}" for mid in mids}

    def media(event: dict[str, Any]) -> dict[str, Any]:
        return {"data": json.dumps(event)}

    offer = {
        "type": "custom",
        "data": {
            "type": "sdpOffer",
            "data": {
                "sdpOffer": {"type": "offer", "sdp": sdp},
                "trackIdToTrackMetadata": {},
                "midToTrackId": mids,
            },
        },
    }
    connect = {"type": "connect", "data": {"metadata": {"displayName": "Mallory"}}}
    await client.push(topic, "mediaEvent", media(connect), "1")
    sent = 0
    while not stop.is_set():
        if mode == "fresh" and sent:
            await client.push(topic, "mediaEvent", media({"type": "disconnect"}), "1")
            await client.push(topic, "mediaEvent", media(connect), "1")
        await client.push(topic, "mediaEvent", media(offer), "1")
        sent += 1
        await asyncio.sleep(1.0)
    answers = [
        e for e in client.media if e["type"] == "custom" and e["data"]["type"] == "sdpAnswer"
    ]
    print(f"attacker: {len(answers)} sdpAnswers")
    errors = [e for e in client.media if e["type"] == "error"]
    if errors:
        print("attacker errors:", errors[:3])
    await client.ws.close()
    return sent


async def bystander(url: str, origin: str, stop: asyncio.Event) -> list[float]:
    client = Client(url, origin)
    await client.open()
    await client.call("room:calm", "phx_join", {"displayName": "Ann"}, "1")
    rtts: list[float] = []
    while not stop.is_set():
        start = time.perf_counter()
        await client.call("phoenix", "heartbeat", {}, None)
        rtts.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.1)
    await client.ws.close()
    return rtts


async def run(url: str, origin: str, seconds: float, mode: str) -> None:
    stop = asyncio.Event()
    quiet = asyncio.create_task(bystander(url, origin, stop))
    await asyncio.sleep(3.0)
    stop.set()
    baseline = await quiet
    stop = asyncio.Event()
    calm = asyncio.create_task(bystander(url, origin, stop))
    attack = asyncio.create_task(attacker(url, origin, mode, stop))
    await asyncio.sleep(seconds)
    stop.set()
    rtts, sent = await calm, await attack
    for label, values in (("idle", baseline), (f"under attack ({mode})", rtts)):
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1]
        print(
            f"{label}: {len(values)} heartbeats, median {statistics.median(values):.1f} ms, "
            f"p95 {p95:.1f} ms, max {values[-1]:.1f} ms"
        )
    print(f"offers sent: {sent}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--mode", choices=["renegotiate", "fresh"], default="renegotiate")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="videoroom-hb-"))
    env = embedded_env(workdir / "db.sqlite3", DJANGO_DEBUG="false", LOG_LEVEL="WARNING")
    env["DJANGO_SECRET_KEY"] = "heartbeat-measurement-secret"
    manage(env, "migrate", "--noinput")
    with running_daphne(env, workdir / "daphne.log") as server:
        asyncio.run(run(server.socket_url, server.origin, args.seconds, args.mode))
        print(server.log(2000))


if __name__ == "__main__":
    main()
