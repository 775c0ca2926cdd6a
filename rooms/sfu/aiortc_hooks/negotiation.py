"""What ``setRemoteDescription`` negotiated for a transceiver, and narrowing it before the answer.

aiortc keeps both on private transceiver attributes: the codecs common to the offer and
aiortc's own (which the answer lists and the sender and receiver use) and the direction
the remote offer asked for, seen from this side.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiortc import RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters


def transceiver_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """The codecs negotiated for ``transceiver`` by the last ``setRemoteDescription``.

    In the remote offer's order, RTX entries included; empty before any negotiation.
    The list is aiortc's own: change it only through ``keep_codecs``.
    """
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    return codecs


def keep_codecs(transceiver: RTCRtpTransceiver, codecs: Iterable[RTCRtpCodecParameters]) -> None:
    """Negotiate only ``codecs``: the next answer lists them alone and media uses them.

    Call between ``setRemoteDescription`` and ``createAnswer``.
    """
    transceiver._codecs = list(codecs)


def offered_direction(transceiver: RTCRtpTransceiver) -> str | None:
    """The direction the last remote offer asked of this side for ``transceiver``.

    The offer's direction reversed: ``"sendonly"`` when the remote m-line is ``recvonly``
    (the remote wants to receive), ``"recvonly"`` when it is ``sendonly``; ``None`` for
    a transceiver no remote offer has named.
    """
    direction: str | None = transceiver._offerDirection
    return direction
