"""Where the SFU reaches into aiortc 1.16 / aioice 0.13 private state, and only here.

- ``receive``: a publisher receiver's jitter buffer is replaced by a tap that hands every
  RTP packet to the forwarder; PLIs to the publisher.
- ``send``: a subscriber's sender whose RTP the forwarder writes (``DtlsRoute``) and
  counts for aiortc's sender reports (``SenderReportCounter``); aiortc keeps its RTCP.
- ``negotiation``: the codecs and offered direction ``setRemoteDescription`` negotiated.
- ``ice``: a peer connection's aioice connections, their gathering step and remote
  credentials.

Every function here is guarded by a behavioural test on the pinned versions, named for
it, in tests/sfu/test_aiortc_hooks*.py; tests/unit/test_layering.py keeps every other
module of ``rooms`` off private attributes.
"""

from rooms.sfu.aiortc_hooks.ice import (
    ComponentGathering,
    add_host_protocols,
    gathering_replaced,
    guard_checks,
    ice_connection,
    ice_connections,
    remote_ice_ufrag,
    replace_gathering,
    set_remote_ice_credentials,
    stock_gathering,
)
from rooms.sfu.aiortc_hooks.negotiation import keep_codecs, offered_direction, transceiver_codecs
from rooms.sfu.aiortc_hooks.receive import (
    PacketHandler,
    lazy_bitrate_estimators,
    send_pli,
    tap_receiver,
)
from rooms.sfu.aiortc_hooks.send import (
    DtlsRoute,
    SenderReportCounter,
    extension_ids,
    sender_ssrc,
    take_over_sender,
)

__all__ = [
    "ComponentGathering",
    "DtlsRoute",
    "PacketHandler",
    "SenderReportCounter",
    "add_host_protocols",
    "extension_ids",
    "gathering_replaced",
    "guard_checks",
    "ice_connection",
    "ice_connections",
    "keep_codecs",
    "lazy_bitrate_estimators",
    "offered_direction",
    "remote_ice_ufrag",
    "replace_gathering",
    "send_pli",
    "sender_ssrc",
    "set_remote_ice_credentials",
    "stock_gathering",
    "take_over_sender",
    "tap_receiver",
    "transceiver_codecs",
]
