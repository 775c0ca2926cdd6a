"""The voice-activity detector alone: hysteresis over audio levels, times given explicitly."""

from __future__ import annotations

from rooms.sfu.voice_activity import (
    SILENCE_AFTER,
    SPEECH_AFTER,
    VoiceActivityDetector,
    VoiceStatus,
)

LOUD = 20  # -20 dBov: talking close to the microphone
QUIET = 90  # -90 dBov: a quiet room
PACKET = 0.02  # seconds: one 20 ms Opus packet


def feed(
    detector: VoiceActivityDetector, level: int, seconds: float, start: float
) -> tuple[list[VoiceStatus], float]:
    """Levels every 20 ms for ``seconds`` from ``start``: the changes and the next time."""
    changes: list[VoiceStatus] = []
    now = start
    for _ in range(round(seconds / PACKET)):
        status = detector.update(level, now)
        if status is not None:
            changes.append(status)
        now += PACKET
    return changes, now


def test_sustained_loud_level_is_speech_after_the_speech_delay() -> None:
    detector = VoiceActivityDetector()
    early, now = feed(detector, LOUD, SPEECH_AFTER - 2 * PACKET, 0.0)
    assert early == [] and not detector.speaking
    later, _ = feed(detector, LOUD, 0.2, now)
    assert later == ["speech"]  # once, however long it lasts
    assert detector.speaking


def test_speech_turns_to_silence_only_after_the_silence_delay() -> None:
    detector = VoiceActivityDetector()
    _, now = feed(detector, LOUD, 1.0, 0.0)
    early, now = feed(detector, QUIET, SILENCE_AFTER - 0.1, now)
    assert early == [] and detector.speaking
    later, _ = feed(detector, QUIET, 1.0, now)
    assert later == ["silence"]
    assert not detector.speaking


def test_a_single_loud_packet_is_not_speech() -> None:
    detector = VoiceActivityDetector()
    _, now = feed(detector, QUIET, 0.5, 0.0)
    assert detector.update(0, now) is None
    changes, _ = feed(detector, QUIET, 1.0, now + PACKET)
    assert changes == [] and not detector.speaking


def test_short_bursts_with_long_gaps_are_not_speech() -> None:
    """A loud packet now and then (a click, a cough) never lasts the speech delay."""
    detector = VoiceActivityDetector()
    now = 0.0
    for _ in range(20):
        assert detector.update(LOUD, now) is None
        changes, now = feed(detector, QUIET, 0.2, now + PACKET)
        assert changes == []
    assert not detector.speaking


def test_a_short_pause_between_words_is_not_silence() -> None:
    detector = VoiceActivityDetector()
    changes, now = feed(detector, LOUD, 1.0, 0.0)
    for _ in range(5):
        pause, now = feed(detector, QUIET, 0.3, now)
        words, now = feed(detector, LOUD, 0.3, now)
        changes += pause + words
    assert changes == ["speech"]


def test_a_level_between_the_thresholds_keeps_the_status() -> None:
    """-52 dBov: not loud enough to start speech, not quiet enough to end it."""
    quiet = VoiceActivityDetector()
    assert feed(quiet, 52, 2.0, 0.0)[0] == []
    talking = VoiceActivityDetector()
    _, now = feed(talking, LOUD, 1.0, 0.0)
    assert feed(talking, 52, 2.0, now)[0] == []
    assert talking.speaking


def test_packets_without_levels_change_nothing() -> None:
    """A publication calls update only for packets carrying the extension; time alone does
    nothing, so a stream without it stays silent and a speaking one stays speaking."""
    detector = VoiceActivityDetector()
    _, now = feed(detector, LOUD, 1.0, 0.0)
    assert detector.speaking
    assert detector.update(LOUD, now + 30.0) is None
    assert detector.speaking


def test_reset_says_whether_it_ended_speech() -> None:
    detector = VoiceActivityDetector()
    assert detector.reset() is False
    feed(detector, LOUD, 1.0, 0.0)
    assert detector.reset() is True
    assert not detector.speaking
