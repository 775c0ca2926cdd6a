"""DefaultPeerServices: what a join reads and claims, in the embedded default."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from rooms.models import Room
from rooms.services import JoinRequest
from rooms.web.peer_channel import DefaultPeerServices
from rooms.worker.embedded import embedded_worker

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_join_reads_the_database_while_the_shared_sync_thread_is_busy() -> None:
    await Room.objects.acreate(name="alpha", max_participants=7)
    release = threading.Event()
    # Holds asgiref's one thread for thread-sensitive sync code, as a slow admin view does.
    busy = asyncio.ensure_future(sync_to_async(release.wait)(10))
    await asyncio.sleep(0.05)
    try:
        policy = await asyncio.wait_for(DefaultPeerServices().authorize(JoinRequest("alpha")), 2)
    finally:
        release.set()
        await busy
    assert policy.max_participants == 7


async def test_claiming_a_room_starts_the_embedded_worker_that_owns_it() -> None:
    assert embedded_worker() is None
    owner = await DefaultPeerServices().claim("alpha")
    worker = embedded_worker()
    assert worker is not None and owner == worker.ref
