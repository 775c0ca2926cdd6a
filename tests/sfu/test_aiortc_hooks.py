"""The private aiortc/aioice names the SFU relies on (pinned 1.16.0 / 0.13.0).

If an upgrade moves any of them, these fail first and name the hook that broke.
"""

from __future__ import annotations

import inspect

import aioice
import aiortc
import pytest
from aioice import ice
from aiortc import (
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    rtcpeerconnection,
    rtcrtpreceiver,
)
from aiortc.rtcicetransport import RTCIceGatherer

from rooms.sfu import aiortc_hooks
from tests.sfu import encoded_receiver


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_pinned_versions() -> None:
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


def test_test_clients_receiver_starts_the_module_level_decoder_worker_by_name() -> None:
    assert params(encoded_receiver._original_worker) == [
        "loop",
        "input_q",
        "output_q",
        "decode_error",
    ]
    source = inspect.getsource(RTCRtpReceiver.receive)
    assert "target=decoder_worker" in source
    assert "self._track._queue" in source


def test_install_replaces_decoder_worker_once() -> None:
    encoded_receiver.install()
    encoded_receiver.install()
    assert rtcrtpreceiver.decoder_worker is encoded_receiver._dispatching_worker


def test_receiver_passes_every_packet_to_its_jitter_buffer_only_through_add() -> None:
    source = inspect.getsource(RTCRtpReceiver)
    assert source.count("self.__jitter_buffer") == 3  # two assignments in __init__, one add
    assert "pli_flag, encoded_frame = self.__jitter_buffer.add(packet)" in source
    assert "if encoded_frame is not None and self.__decoder_thread:" in source


def test_sender_rtp_loop_start_nack_and_pli_hooks() -> None:
    send = inspect.getsource(RTCRtpSender.send)
    assert "self.__started" in send
    assert "asyncio.ensure_future(self._run_rtp(parameters.codecs[0]))" in send
    stop = inspect.getsource(RTCRtpSender.stop)
    assert "self.__rtp_started.wait()" in stop and "self.__rtp_exited.wait()" in stop
    handle = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "await self._retransmit(seq)" in handle
    assert "self._send_keyframe()" in handle
    assert params(RTCRtpSender._retransmit) == ["self", "sequence_number"]
    assert params(RTCRtpSender._send_keyframe) == ["self"]


def test_sender_report_counters_written_by_the_rtp_writer() -> None:
    init = inspect.getsource(RTCRtpSender.__init__)
    report = inspect.getsource(RTCRtpSender._run_rtcp)
    for name in ("ntp_timestamp", "rtp_timestamp", "octet_count", "packet_count"):
        assert f"self.__{name} = 0" in init, name
        assert f"self.__{name}" in report, name
    assert "self._ssrc" in init


def test_dtls_route_uses_the_transports_srtp_session_and_selected_pair() -> None:
    send_rtp = inspect.getsource(aiortc.RTCDtlsTransport._send_rtp)
    assert "self._state != State.CONNECTED" in send_rtp
    assert "self._tx_srtp.protect(data)" in send_rtp
    assert "self._connection = gatherer._connection" in inspect.getsource(aiortc.RTCIceTransport)
    sendto = inspect.getsource(ice.Connection.sendto)
    assert "self._nominated.get(component)" in sendto
    assert "active_pair.protocol.send_data(data, active_pair.remote_addr)" in sendto
    assert "self.transport.sendto(data, addr)" in inspect.getsource(ice.StunProtocol.send_data)
    assert aiortc_hooks.DtlsRoute.__slots__ == ("_dtls", "_ice")


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


def test_a_packet_the_forwarder_cannot_handle_is_dropped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The receive tap runs inside aiortc's socket loop: an exception would end the peer's media."""
    calls = []

    def failing(packet: object) -> None:
        calls.append(packet)
        raise ValueError("bad packet")

    tap = aiortc_hooks._ReceiveTap(failing, "room r peer p track t")  # type: ignore[arg-type]
    assert tap.add("first") == (False, None)  # type: ignore[arg-type]
    assert tap.add("second") == (False, None)  # type: ignore[arg-type]
    assert calls == ["first", "second"]
    assert [r.message for r in caplog.records].count(
        "room r peer p track t: forwarding a packet failed"
    ) == 1


def test_receivers_build_their_bitrate_estimator_by_the_module_level_name() -> None:
    from aiortc import rate

    assert "RemoteBitrateEstimator()" in inspect.getsource(RTCRtpReceiver.__init__)
    assert params(rate.RemoteBitrateEstimator.add) == [
        "self",
        "arrival_time_ms",
        "abs_send_time",
        "payload_size",
        "ssrc",
    ]
    assert "remote_bitrate_estimator.add(" in inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    aiortc_hooks.lazy_bitrate_estimators()
    assert rtcrtpreceiver.RemoteBitrateEstimator is aiortc_hooks._LazyBitrateEstimator
