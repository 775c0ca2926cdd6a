"""ICE servers handed to browsers and used by the room worker.

TURN credentials follow coturn's shared-secret scheme (``use-auth-secret``, the
"TURN REST API"): username ``<expiry unix time>:<user>``, password
``base64(HMAC-SHA1(secret, username))``. No public STUN server is ever implied:
with nothing configured the list is empty and only host candidates are used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings

from rooms.sfu.config import MediaConfig


def turn_credentials(
    secret: str, user: str, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    """A time-limited (username, password) pair that coturn accepts until now + ttl."""
    expiry = int((time.time() if now is None else now) + ttl_seconds)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(user: str, config: MediaConfig | None = None) -> list[dict[str, Any]]:
    """RTCIceServer dicts (``urls``, ``username``, ``credential``) for one user."""
    config = config or settings.VIDEOROOM_MEDIA
    servers: list[dict[str, Any]] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls:
        username, credential = turn_credentials(config.turn_secret, user, config.turn_ttl_seconds)
        servers.append(
            {"urls": list(config.turn_urls), "username": username, "credential": credential}
        )
    return servers
