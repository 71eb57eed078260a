"""16-bit mono PCM as a WAV file in memory: what remote engines upload and
the sound-cue players read."""

from __future__ import annotations

import io
import wave

from v2m.domain.audio_math import SAMPLE_RATE_HZ


def wav_bytes(pcm: bytes, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm)
    return out.getvalue()
