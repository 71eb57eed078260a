"""On the CPU, Whisper's encoder on every thread and its decoder on one.

A decoder step of a small model is too little work to share between
threads: each of its many small matrix products ends at a barrier, and on a
virtual machine a thread woken late stalls the step. Measured on a 2-core
AVX2 VM (bench/decoder_threads.py, BENCHMARKS.md "The decoder on one
thread"): tiny.en's pass of one sentence with the one before as context,
beam 5, took 603-628 ms on 2 threads and 375-426 ms on 1; its encoder, one
large batch of products, is 1.6x faster on 2 (57-64 against 91-105 ms for
a 10 s window). The whole 20 s read: 1.67-1.73 s on 2 threads, 1.16-1.30 s
split; base gains as much.

CTranslate2 fixes a model's threads when it loads it, so the decoder is a
second copy of the model on one thread, fed the encoder's output (which
generate(), detect_language() and align() accept as they accept mel
features). That copy costs the weights' memory again, so only models up to
MAX_SPLIT_BYTES on disk (tiny, base, small) are split; wider models' steps
have more to share, unmeasured here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MAX_SPLIT_BYTES = 512 * 1024 * 1024  # model.bin: small is 484 MB, medium 1.5 GB


class SplitModel:
    """A ctranslate2 Whisper model whose encode() runs on `encoder`, and
    everything else (generate, detect_language, align, attributes) on
    `decoder`. Callers must encode first: mel features given to generate()
    would be encoded on the decoder's one thread."""

    def __init__(self, encoder, decoder) -> None:
        self._encoder = encoder
        self._decoder = decoder

    def encode(self, *args, **kwargs):
        return self._encoder.encode(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._decoder, name)


def should_split(device: str, cpu_threads: int, model_bytes: int, cpus: int) -> bool:
    """Whether the decoder gets its own one-thread copy: on the CPU, when
    the encoder has more than one thread (0: CTranslate2's default, one per
    core), and the model is small enough to hold twice."""
    threads = cpu_threads or cpus
    return device == "cpu" and threads > 1 and model_bytes <= MAX_SPLIT_BYTES


def split_decoder(whisper_model, path: Path, device: str, compute_type: str, cpu_threads: int) -> bool:
    """Give the loaded faster_whisper.WhisperModel a one-thread decoder if
    should_split says so; True if it did."""
    import ctranslate2

    weights = Path(path) / "model.bin"
    size = weights.stat().st_size if weights.is_file() else MAX_SPLIT_BYTES + 1
    if not should_split(device, cpu_threads, size, len(os.sched_getaffinity(0))):
        return False
    decoder = ctranslate2.models.Whisper(str(path), device="cpu", compute_type=compute_type, intra_threads=1)
    whisper_model.model = SplitModel(whisper_model.model, decoder)
    log.debug("decoder on one thread, encoder on %s", cpu_threads or "the default threads")
    return True
