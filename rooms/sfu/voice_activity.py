"""Who is speaking: a voice-activity detector fed by the RFC 6464 audio-level extension.

Browsers write each audio packet's level (0..127, in -dBov: 0 is the loudest) into the
``ssrc-audio-level`` RTP header extension, which aiortc parses; nothing is decoded here.
A Publication feeds every audio packet's level to one detector; the detector reports a
change of status only after the level has stayed on the other side of a threshold for a
while, so a cough is not speech and a breath between words is not silence:

- ``speech`` once the smoothed level stays louder than ``SPEECH_LEVEL`` (-50 dBov, the
  threshold of Membrane's VAD) for ``SPEECH_AFTER`` (0.15 s);
- ``silence`` once it stays quieter than ``SILENCE_LEVEL`` (-55 dBov: the 5 dB gap keeps a
  level hovering around -50 dBov from flipping the status) for ``SILENCE_AFTER`` (0.6 s).

Times are arrival times, not RTP timestamps: a client cannot make its packets look
spread over seconds, so the two delays bound the changes of one track to about 1.3/s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

VoiceStatus = Literal["speech", "silence"]
# (publisher endpoint id, track id, new status); called synchronously from the RTP path.
VoiceCallback = Callable[[str, str, VoiceStatus], None]

SPEECH_LEVEL = 50  # -dBov: louder (smaller) than this counts towards speech
SILENCE_LEVEL = 55  # -dBov: quieter (larger) than this counts towards silence
SPEECH_AFTER = 0.15  # seconds above SPEECH_LEVEL before "speech"
SILENCE_AFTER = 0.6  # seconds below SILENCE_LEVEL before "silence"
# The smoothed level is kept times 2**_SCALE and moves 1/2**_SHIFT of the way to each new
# level: with 20 ms packets, a window of about 80 ms, in integer operations only.
_SCALE = 4
_SHIFT = 2
_QUIET = 127 << _SCALE


class VoiceActivityDetector:
    """Hysteresis over a smoothed audio level; ``update`` returns the new status on a change."""

    __slots__ = ("_average", "_since", "speaking")

    def __init__(self) -> None:
        self._average = _QUIET
        self._since: float | None = None  # when the level crossed towards the other status
        self.speaking = False

    def update(self, level: int, now: float) -> VoiceStatus | None:
        """Take one packet's level (-dBov, 0..127) received at ``now`` (monotonic seconds)."""
        average = self._average = self._average + (
            ((level & 0x7F) << _SCALE) - self._average >> _SHIFT
        )
        if self.speaking:
            towards = average > SILENCE_LEVEL << _SCALE
            delay = SILENCE_AFTER
        else:
            towards = average < SPEECH_LEVEL << _SCALE
            delay = SPEECH_AFTER
        if not towards:
            self._since = None
            return None
        since = self._since
        if since is None:
            self._since = now
            return None
        if now - since < delay:
            return None
        self._since = None
        self.speaking = not self.speaking
        return "speech" if self.speaking else "silence"

    def reset(self) -> bool:
        """Forget the level (the stream stopped or was muted); True if it was speech."""
        was_speaking = self.speaking
        self._average = _QUIET
        self._since = None
        self.speaking = False
        return was_speaking
