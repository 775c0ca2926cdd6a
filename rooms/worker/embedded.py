"""The embedded default: with no REDIS_URL the room worker runs on the server's loop."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from channels.layers import get_channel_layer

from rooms.registry.local import LocalRegistry
from rooms.worker.rooms import make_room
from rooms.worker.worker import RoomWorker

_workers: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[RoomWorker]] = (
    WeakKeyDictionary()
)


async def ensure_embedded_worker(registry: LocalRegistry) -> RoomWorker:
    """Start this loop's worker once; concurrent callers wait for the same start."""
    loop = asyncio.get_running_loop()
    started = _workers.get(loop)
    if started is None:
        started = _workers[loop] = loop.create_future()
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"
        # The server's own web code watches this lease on the same loop; the keeper's
        # thread renews it in the registry directly while that loop is busy.
        worker = RoomWorker.from_settings(layer, registry, make_room, registry)
        try:
            await worker.start()
        except BaseException as error:
            del _workers[loop]
            started.set_exception(error)
            raise
        started.set_result(worker)
    return await asyncio.shield(started)


def embedded_worker() -> RoomWorker | None:
    """This loop's embedded worker, if it has started."""
    started = _workers.get(asyncio.get_running_loop())
    return (
        started.result()
        if started is not None and started.done() and not started.exception()
        else None
    )
