"""VoiceDetector: webrtcvad behind an adaptive noise floor.

A frame is speech only if webrtcvad says so AND its energy stands
`margin_db` above the room's noise floor. Energy is measured after
pre-emphasis (y[n] = x[n] - 0.97 x[n-1]), which takes most of the power out of
fan rumble and brown noise, little out of speech.

The floor is learned from the first `learn_ms` (their minimum), then follows
the minimum: it drops at once to a quieter frame, and otherwise rises by
`rise_db_per_s` (faster, `pause_rise_db_per_s`, while the frames are judged
non-speech), so a louder room is learned during pauses while speech does not
lift it. Until the floor is learned, webrtcvad alone decides.
"""

from __future__ import annotations

import math

import numpy as np
import webrtcvad

from v2m.domain.audio_math import FRAME_MS, SAMPLE_RATE_HZ

PRE_EMPHASIS = 0.97


class NoiseFloorVoiceDetector:
    def __init__(self, aggressiveness: int = 3, margin_db: float = 9.0, learn_ms: int = 300,
                 rise_db_per_s: float = 1.0, pause_rise_db_per_s: float = 6.0) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self.margin_db = margin_db
        self._learn_frames = max(1, learn_ms // FRAME_MS)
        self._rise = rise_db_per_s * FRAME_MS / 1000
        self._pause_rise = pause_rise_db_per_s * FRAME_MS / 1000
        self._frames = 0
        self._last = 0.0               # previous sample, for the pre-emphasis
        self.floor_db = math.inf

    def is_speech(self, frame: bytes) -> bool:
        level = self._energy_db(frame)
        voiced = self._vad.is_speech(frame, SAMPLE_RATE_HZ)
        self._frames += 1
        if self._frames <= self._learn_frames:
            self.floor_db = min(self.floor_db, level)
            return voiced
        speech = voiced and level > self.floor_db + self.margin_db
        self.floor_db = min(level, self.floor_db + (self._rise if speech else self._pause_rise))
        return speech

    def _energy_db(self, frame: bytes) -> float:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        if not x.size:
            return -120.0
        y = np.empty_like(x)
        y[0] = x[0] - PRE_EMPHASIS * self._last
        y[1:] = x[1:] - PRE_EMPHASIS * x[:-1]
        self._last = x[-1]
        return 10 * math.log10(float(np.mean(y * y)) / 32768.0 ** 2 + 1e-12)
