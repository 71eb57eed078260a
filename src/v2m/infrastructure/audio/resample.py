"""Resampling device audio to 16 kHz for devices that cannot capture at it."""

from __future__ import annotations

import numpy as np

from v2m.domain.audio_math import SAMPLE_RATE_HZ


def to_16k(pcm: bytes, rate: int) -> bytes:
    """Linear-interpolation resampler with a moving-average anti-alias filter.

    Good enough for speech recognition (Whisper ignores content above 8 kHz),
    and chunk-local, so no state is carried between reads.
    """
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    if rate == SAMPLE_RATE_HZ or samples.size == 0:
        return pcm
    if rate > SAMPLE_RATE_HZ:
        width = int(round(rate / SAMPLE_RATE_HZ))
        if width > 1:
            samples = np.convolve(samples, np.ones(width, dtype=np.float32) / width, mode="same")
    count = int(round(samples.size * SAMPLE_RATE_HZ / rate))
    positions = np.linspace(0, samples.size - 1, count)
    out = np.interp(positions, np.arange(samples.size), samples)
    return np.clip(out, -32768, 32767).astype(np.int16).tobytes()
