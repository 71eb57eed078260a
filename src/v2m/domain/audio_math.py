"""Small arithmetic on s16le mono PCM, standard library only."""

from __future__ import annotations

import array
import math
import sys

SAMPLE_RATE_HZ = 16_000
BYTES_PER_SAMPLE = 2
FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE_HZ * FRAME_MS // 1000   # 480
FRAME_BYTES = FRAME_SAMPLES * BYTES_PER_SAMPLE      # 960


def _samples(pcm: bytes) -> array.array:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def rms(pcm: bytes) -> float:
    """Root-mean-square level as a fraction of full scale (0..1)."""
    samples = _samples(pcm)
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768.0


def duration_s(pcm_bytes: int) -> float:
    return pcm_bytes / (SAMPLE_RATE_HZ * BYTES_PER_SAMPLE)


def power_mean(levels: list[float]) -> float:
    """The RMS level of a stretch of audio from its frames' RMS levels."""
    return math.sqrt(sum(x * x for x in levels) / len(levels)) if levels else 0.0


def signal_to_noise_db(levels: list[float]) -> float:
    """How far a recording stands above its noise, in dB, from its frames'
    RMS levels: their mean power over that of the quietest tenth (the
    pauses between words and sentences). Espeak-ng dictations mixed with
    brown, pink or babble noise at 20 / 10 / 5 dB SNR measure 19-21.5 /
    9.5-12.5 / 5.5-9.5 dB (tests/integration/test_vad_noise.py); digital
    silence measures about 160."""
    if not levels:
        return math.inf
    ordered = sorted(levels)
    floor = ordered[(len(ordered) - 1) // 10]  # the loudest of the quietest tenth
    return 20 * math.log10(max(power_mean(levels), 1e-9) / max(floor, 1e-9))
