"""The private aiortc/aioice names the SFU relies on (pinned 1.16.0 / 0.13.0).

If an upgrade moves any of them, these fail first and name the hook that broke.
"""

from __future__ import annotations

import inspect

import aioice
import aiortc
from aioice import ice
from aiortc import (
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    rtcpeerconnection,
    rtcrtpreceiver,
)
from aiortc.rtcicetransport import RTCIceGatherer

from rooms.sfu import passthrough


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_pinned_versions() -> None:
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


def test_receiver_starts_the_module_level_decoder_worker_by_name() -> None:
    assert params(passthrough._original_worker) == ["loop", "input_q", "output_q", "decode_error"]
    source = inspect.getsource(RTCRtpReceiver.receive)
    assert "target=decoder_worker" in source
    assert "self._track._queue" in source


def test_install_replaces_decoder_worker_once() -> None:
    passthrough.install()
    passthrough.install()
    assert rtcrtpreceiver.decoder_worker is passthrough._dispatching_worker


def test_sender_packs_non_frames_and_routes_pli_through_send_keyframe() -> None:
    assert "self.__encoder.pack(data)" in inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert params(RTCRtpSender._send_keyframe) == ["self"]


def test_receiver_can_send_a_pli() -> None:
    assert params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]


def test_transceiver_codec_and_offer_direction_attributes() -> None:
    source = inspect.getsource(aiortc.RTCPeerConnection.setRemoteDescription)
    assert "transceiver._codecs = common" in source
    assert "transceiver._offerDirection = direction" in source
    assert "self._codecs" in inspect.getsource(RTCRtpTransceiver)
    assert "transceiver._codecs" in inspect.getsource(
        rtcpeerconnection.create_media_description_for_transceiver
    )


def test_aioice_gathering_and_credential_hooks() -> None:
    assert params(ice.Connection.get_component_candidates) == [
        "self",
        "component",
        "addresses",
        "timeout",
    ]
    assert "self.get_component_candidates(" in inspect.getsource(ice.Connection.gather_candidates)
    assert params(ice.server_reflexive_candidate) == ["protocol", "stun_server"]
    assert "self.remote_username" in inspect.getsource(ice.Connection._valid_username)
    assert "self.remote_password" in inspect.getsource(ice.Connection.query_consent)
    assert "_connection" in inspect.getsource(RTCIceGatherer.__init__)
    connection = ice.Connection(ice_controlling=False)
    assert connection._protocols == []
