"""Readiness of a web process: the channel layer answers a round trip.

A web process whose layer is gone (Redis down or unreachable) can accept
websockets but join nobody to anything, so it is not ready: ``/healthz`` sends
a message to a fresh channel and receives it back within a short timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time

import shortuuid
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


async def layer_round_trip(timeout: float) -> float:
    """Seconds a send+receive on the default layer took; raises on failure or timeout."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured")
    # A plain (not process-local) channel: its receive is one BZPOPMIN on Redis, which
    # a timeout can abandon without disturbing the layer's shared receive loop.
    channel = f"videoroom.health.{shortuuid.uuid()}"
    token = shortuuid.uuid()
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        await layer.send(channel, {"type": "health.ping", "token": token})
        message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("the layer returned another message")
    return time.monotonic() - started


async def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the channel layer answers, 503 (with the reason) when it does not."""
    timeout = settings.VIDEOROOM_OPS["HEALTH_TIMEOUT_SECONDS"]
    try:
        seconds = await layer_round_trip(timeout)
    except Exception as error:
        reason = type(error).__name__ if isinstance(error, TimeoutError) else str(error)
        logger.warning("healthz: channel layer unavailable: %s", reason or type(error).__name__)
        return JsonResponse(
            {"status": "unavailable", "layer": reason or type(error).__name__}, status=503
        )
    return JsonResponse({"status": "ok", "layer_seconds": round(seconds, 4)})
