"""VoiceDetector over webrtcvad (the webrtcvad-wheels build)."""

from __future__ import annotations

import webrtcvad

from v2m.domain.audio_math import SAMPLE_RATE_HZ


class WebRtcVoiceDetector:
    def __init__(self, aggressiveness: int = 2) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return self._vad.is_speech(frame, SAMPLE_RATE_HZ)
