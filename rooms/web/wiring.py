"""The web side's composition root: the registry joins use, and the embedded worker.

With no REDIS_URL the registry is process-local and the room worker runs on this
process's event loop (DESIGN.md invariant 4). It is started here, on the first
use by something that needs a room owner: PeerChannel's join (through
DefaultPeerServices) and the owner monitor. Nothing else starts it: an admin page
reads the registry through ``get_registry`` and finds no live rooms instead.
"""

from __future__ import annotations

from rooms.registry import Registry, get_registry
from rooms.registry.local import LocalRegistry
from rooms.worker.embedded import ensure_embedded_worker


async def room_registry() -> Registry:
    """This loop's registry, with this loop's room worker started if the registry is local."""
    registry = await get_registry()
    if isinstance(registry, LocalRegistry):
        await ensure_embedded_worker(registry)
    return registry
