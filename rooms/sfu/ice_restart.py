"""Following a client's ICE restart, which stock aiortc ignores (reference 2.10).

The Membrane JS client calls ``pc.restartIce()`` on every ``offerData`` after the first,
so each renegotiation offer carries a new ice-ufrag/ice-pwd. aiortc starts its ICE
transport once and never reads later remote credentials, and aioice then answers the
browser's checks (USERNAME ``<our ufrag>:<new client ufrag>``) with 401 and signs its
own checks with the old password: no pair of the restarted ICE generation can succeed.
(Measured with Chromium 156 on one host: it keeps media on the previously selected pair,
for over 2 minutes with or without this module, so on a stable network the difference is
invisible; it matters when the browser's network changed and the old pair is dead.)

What is done here: after each remote offer, the new remote ufrag/pwd are written into
the aioice connection (``aiortc_hooks.set_remote_ice_credentials``: aioice reads them
for every check and consent request). The worker keeps its own ufrag/pwd
(the answer repeats them), so existing checks stay valid. aioice keeps answering and
running triggered checks after it completed, and a pair the browser nominates with
USE-CANDIDATE replaces the selected pair, so media moves to the browser's new pair.

Limits: the worker gathers no new candidates and does not restart its side; a
browser that changed networks is reached only through peer-reflexive pairs.
"""

from __future__ import annotations

import logging

from aiortc import RTCPeerConnection

from rooms.sfu import aiortc_hooks
from rooms.sfu.sdp_text import ice_credentials

logger = logging.getLogger(__name__)


def follow_remote_restart(pc: RTCPeerConnection, offer_sdp: str, label: str) -> bool:
    """Apply new remote ICE credentials from ``offer_sdp``; True if they changed."""
    credentials = ice_credentials(offer_sdp)
    if credentials is None:
        return False
    ufrag, pwd = credentials
    changed = False
    for connection in aiortc_hooks.ice_connections(pc):
        remote = aiortc_hooks.remote_ice_ufrag(connection)
        # None: not started yet; aiortc's first start() applies the offer's credentials.
        if remote is not None and remote != ufrag:
            aiortc_hooks.set_remote_ice_credentials(connection, ufrag, pwd)
            changed = True
    if changed:
        logger.info("%s: client ICE restart followed (remote ufrag %s)", label, ufrag)
    return changed
