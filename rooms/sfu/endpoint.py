"""One peer's WebRTC side: an aiortc RTCPeerConnection that always answers the client.

The client's ``sendonly`` m-lines named in ``midToTrackId`` are its published tracks:
each becomes a Publication read from the moment it exists. The client's ``recvonly``
m-lines carry what this peer subscribes to: per kind, in m-line order, they are bound
to subscription slots in subscription order (Membrane's zip, reference 2.5). A slot
keeps its m-line for good; unsubscribing makes it ``inactive`` until the next
subscription of its kind reuses it, and ``offerData`` counts every slot.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from rooms.metrics import endpoints
from rooms.sfu import aiortc_hooks
from rooms.sfu.candidates import RemoteCandidate
from rooms.sfu.config import MediaConfig
from rooms.sfu.forwarding import PliSender, Publication
from rooms.sfu.ice_restart import follow_remote_restart
from rooms.sfu.media_events import SdpOffer, TrackKind
from rooms.sfu.network import configure_gathering, guard_remote_addresses, worker_ice_servers
from rooms.sfu.offer_sdp import (
    CODEC_NAMES,
    check_mids,
    keep_forwarded_codecs,
    media_ssrc,
)
from rooms.sfu.peer_media import FailureCallback, InvalidOffer, OfferOutcome, TrackSource
from rooms.sfu.sdp_text import (
    advertise_external_ip,
    candidate_lines,
    keep_codecs,
    strip_mdns_candidates,
)
from rooms.sfu.subscription import Outlet
from rooms.tasks import spawn

logger = logging.getLogger(__name__)

aiortc_hooks.lazy_bitrate_estimators()

# aioice reports failure only after end-of-candidates, which Membrane clients never send:
# without this bound a peer whose ICE never succeeds would stay forever.
CONNECT_TIMEOUT = 30.0  # seconds from the first answer


@dataclass
class _Slot:
    """One m-line this side sends on: a subscription, current or past."""

    kind: TrackKind
    source: Publication | None  # None once unsubscribed
    endpoint_id: str  # with track_id: the subscription's key
    track_id: str
    transceiver: RTCRtpTransceiver | None = None
    outlet: Outlet | None = None
    fed: bool = False  # the outlet forwards ``source`` (set when an offer binds it)


class Endpoint:
    """Implements rooms.sfu.peer_media.PeerMedia on aiortc."""

    def __init__(
        self, room: str, peer_id: str, *, config: MediaConfig, on_failure: FailureCallback
    ) -> None:
        self._label = f"room {room} peer {peer_id}"
        self._peer_id = peer_id
        self._config = config
        self._on_failure = on_failure
        # max-bundle: every m-line rides the first transport, as the browser
        # asks. Under aiortc's default "balanced" policy a second m-line of a
        # kind arriving in one offer gets a transport that is then dropped, and
        # no media flows on it.
        self._pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=worker_ice_servers(config, peer_id),
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        self._pc.on("connectionstatechange", self._on_state)
        self._inbound: dict[str, Publication] = {}  # by mid
        # Mids of the client's removed tracks: still listed in answers, as Membrane does.
        self._retired: dict[str, str] = {}
        self._slots: list[_Slot] = []
        self._closing = False
        self._failed = False
        self._watchdog: asyncio.Task[None] | None = None
        endpoints.register(room, peer_id, self)

    @property
    def pc(self) -> RTCPeerConnection:
        return self._pc

    @property
    def publications(self) -> list[Publication]:
        return list(self._inbound.values())

    # --- PeerMedia --------------------------------------------------------------------

    async def apply_offer(self, offer: SdpOffer) -> OfferOutcome:
        sdp = keep_codecs(strip_mdns_candidates(offer.sdp), CODEC_NAMES)
        logger.debug("%s: offer\n%s", self._label, sdp)
        try:
            # Parsed once before any state changes: aiortc's parser asserts and indexes on
            # client text, and a description that fails half-applied would leave the
            # connection in between.
            parsed = aiortc_sdp.SessionDescription.parse(sdp)
        except Exception as exc:
            raise InvalidOffer(f"cannot parse the SDP ({type(exc).__name__})") from None
        check_mids(parsed)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except (ValueError, OperationError, InvalidAccessError, InvalidStateError) as exc:
            raise InvalidOffer(str(exc) or type(exc).__name__) from None
        except (AssertionError, LookupError, TypeError, AttributeError) as exc:
            # aiortc's own checks on the offer's content (e.g. a missing a=mid, an
            # m-line without a codec it knows) surface as these.
            raise InvalidOffer(f"cannot apply the SDP ({type(exc).__name__})") from None
        follow_remote_restart(self._pc, sdp, self._label)
        configure_gathering(self._pc, self._config, self._label)
        guard_remote_addresses(self._pc, self._config, self._label)
        transceivers = [t for t in self._pc.getTransceivers() if t.mid is not None]
        for transceiver in transceivers:
            keep_forwarded_codecs(transceiver)
        added, removed = await self._update_inbound(transceivers, offer.mid_to_track_id, parsed)
        self._bind_slots(transceivers)
        try:
            answer = await self._pc.createAnswer()
            await self._pc.setLocalDescription(answer)
        except (ValueError, InternalError, InvalidStateError) as exc:
            raise InvalidOffer(str(exc) or type(exc).__name__) from None
        answer_sdp = advertise_external_ip(self._pc.localDescription.sdp, self._config.external_ip)
        logger.debug("%s: answer\n%s", self._label, answer_sdp)
        if self._watchdog is None and transceivers:
            self._watchdog = spawn(self._connect_watchdog(), name=f"connect-watchdog-{self._label}")
        mapping = dict(self._retired)
        mapping.update({mid: pub.track_id for mid, pub in self._inbound.items()})
        mapping.update(
            {
                s.transceiver.mid: s.track_id
                for s in self._slots
                if s.transceiver and s.transceiver.mid
            }
        )
        return OfferOutcome(
            answer_sdp=answer_sdp,
            mid_to_track_id=mapping,
            candidates=candidate_lines(answer_sdp),
            added=list(added),
            removed=removed,
        )

    async def add_candidate(self, candidate: RemoteCandidate) -> None:
        if self._pc.remoteDescription is None:
            logger.debug("%s: candidate before any offer dropped", self._label)
            return
        await self._pc.addIceCandidate(candidate.to_aiortc())
        logger.debug("%s: remote candidate %s:%s", self._label, candidate.host, candidate.port)

    def subscribe(self, source: TrackSource) -> None:
        if not isinstance(source, Publication):
            raise TypeError("Endpoint forwards Publications only")
        for slot in self._slots:
            if slot.kind == source.kind and slot.source is None and slot.transceiver is not None:
                # An m-line left inactive by a removed track carries the new one from the
                # next offer on; without reuse every visitor would add m-lines for good.
                slot.source, slot.track_id = source, source.track_id
                slot.endpoint_id = source.endpoint_id
                return
        self._slots.append(
            _Slot(
                kind=source.kind,
                source=source,
                endpoint_id=source.endpoint_id,
                track_id=source.track_id,
            )
        )

    def unsubscribe(self, endpoint_id: str, track_id: str) -> None:
        for slot in list(self._slots):
            if slot.source is None or (slot.endpoint_id, slot.track_id) != (endpoint_id, track_id):
                continue
            slot.source = None
            if slot.transceiver is None:
                self._slots.remove(slot)  # never offered: nothing on the client to keep
                continue
            slot.transceiver.direction = "inactive"
            slot.fed = False
            if slot.outlet is not None:
                slot.outlet.stop()

    def track_counts(self) -> tuple[int, int]:
        audio = sum(1 for slot in self._slots if slot.kind == "audio")
        return audio, len(self._slots) - audio

    def needs_offer(self) -> bool:
        return any(slot.source is not None and not slot.fed for slot in self._slots)

    async def close(self) -> None:
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        for publication in self._inbound.values():
            await publication.close()
        self._inbound.clear()
        for slot in self._slots:
            if slot.outlet is not None:
                slot.outlet.stop()
        self._slots.clear()
        try:
            await self._pc.close()
        except Exception:
            # A connection a client's offer left half-built (aiortc applied part of it) may
            # fail to close; its peer must still leave, so the failure ends here.
            logger.warning("%s: closing the peer connection failed", self._label, exc_info=True)
        logger.info("%s: peer connection closed", self._label)

    # --- internals ----------------------------------------------------------------------

    async def _update_inbound(
        self,
        transceivers: list[RTCRtpTransceiver],
        mid_to_track_id: dict[str, str],
        sdp: aiortc_sdp.SessionDescription,
    ) -> tuple[list[Publication], list[str]]:
        sending: dict[str, tuple[RTCRtpTransceiver, str]] = {}
        for t in transceivers:
            if aiortc_hooks.offered_direction(t) not in ("recvonly", "sendrecv"):
                continue  # the client does not send on this m-line
            if t.mid in mid_to_track_id:
                sending[t.mid] = (t, mid_to_track_id[t.mid])
                t.direction = "recvonly"
            else:
                # Sent but not named as a track: refuse it rather than read it for nobody.
                t.direction = "inactive"
        removed: list[str] = []
        for mid, publication in list(self._inbound.items()):
            if mid not in sending or sending[mid][1] != publication.track_id:
                removed.append(publication.track_id)
                del self._inbound[mid]
                self._retired[mid] = publication.track_id
                await publication.close()
        added: list[Publication] = []
        for mid, (transceiver, track_id) in sending.items():
            if mid in self._inbound or transceiver.receiver.track is None:
                continue
            publication = Publication(
                track_id,
                "audio" if transceiver.kind == "audio" else "video",
                self._pli_sender(transceiver, media_ssrc(sdp, mid)),
                endpoint_id=self._peer_id,
                label=f"{self._label} track {track_id}",
            )
            # Nothing is ever decoded here, whatever the client sends: the publication
            # takes the receiver's packets before its jitter buffer.
            publication.start(transceiver.receiver)
            self._inbound[mid] = publication
            added.append(publication)
        return added, removed

    def _bind_slots(self, transceivers: list[RTCRtpTransceiver]) -> None:
        taken = {id(s.transceiver) for s in self._slots if s.transceiver is not None}
        for kind in ("audio", "video"):
            free = [
                t
                for t in transceivers
                if t.kind == kind
                and aiortc_hooks.offered_direction(t) == "sendonly"
                and id(t) not in taken
            ]
            waiting = [s for s in self._slots if s.kind == kind and s.transceiver is None]
            for slot, transceiver in zip(waiting, free, strict=False):
                slot.transceiver = transceiver
                slot.outlet = Outlet(
                    transceiver.sender, label=f"{self._label} mid {transceiver.mid}"
                )
        for slot in self._slots:
            if slot.source is None or slot.fed or slot.outlet is None or slot.transceiver is None:
                continue
            # The sender's PLI/FIR go to the publisher, rate-limited there.
            slot.outlet.feed(slot.source)
            slot.transceiver.direction = "sendonly"
            slot.fed = True

    def _pli_sender(self, transceiver: RTCRtpTransceiver, ssrc: int | None) -> PliSender:
        receiver = transceiver.receiver

        async def send_pli() -> None:
            sources = (
                [ssrc]
                if ssrc is not None
                else [s.source for s in receiver.getSynchronizationSources()]
            )
            for source_ssrc in sources:
                await aiortc_hooks.send_pli(receiver, source_ssrc)

        return send_pli

    def _on_state(self) -> None:
        state = self._pc.connectionState
        logger.info("%s: connection %s", self._label, state)
        if state in ("failed", "closed") and not self._closing:
            self._report_failure()

    def _report_failure(self) -> None:
        if not self._failed:
            self._failed = True
            self._on_failure()

    async def _connect_watchdog(self) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT)
        if self._pc.connectionState != "connected" and not self._closing:
            logger.info("%s: not connected after %ss", self._label, CONNECT_TIMEOUT)
            self._report_failure()
