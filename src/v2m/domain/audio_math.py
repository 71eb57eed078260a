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
