"""``manage.py roomworker``: a room worker process (needs REDIS_URL or Redis Sentinel)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.messages import RemovalReason
from rooms.metrics.setup import start_worker_metrics
from rooms.redis_target import configured_target
from rooms.registry import get_registry, uses_redis
from rooms.registry.redis import RedisLeaseWriter
from rooms.worker.rooms import make_room, preload
from rooms.worker.worker import RoomWorker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run a room worker: hosts the SFU of the rooms it owns until SIGTERM or SIGINT."

    def handle(self, *args: Any, **options: Any) -> None:
        if not uses_redis():
            raise CommandError(
                "Neither REDIS_URL nor VIDEOROOM_REDIS_SENTINELS is set. Without it the room worker runs inside the server "
                "process; a separate worker needs Redis to reach the web processes."
            )
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        preload()
        layer = get_channel_layer()
        assert layer is not None
        registry = await get_registry()
        # Its own blocking client: the lease keeper renews from a thread, not this loop.
        target = configured_target()
        assert target is not None  # checked by handle()
        lease_writer = RedisLeaseWriter.from_target(target, settings.VIDEOROOM["REDIS_PREFIX"])
        worker = RoomWorker.from_settings(layer, registry, make_room, lease_writer)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        start_worker_metrics()
        ref = await worker.start()
        # A line the tests and operators can wait for.
        self.stdout.write(f"room worker {ref.worker_id} ready", ending="\n")
        self.stdout.flush()
        await stop.wait()
        logger.info("room worker %s: stopping on signal", ref.worker_id)
        await worker.stop(RemovalReason.WORKER_SHUTDOWN)
        lease_writer.close()
        await registry.close()
