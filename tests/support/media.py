"""Test media: synthesized speech as WAV, and the same audio muxed into
MKV/MP4 with PyAV (FFmpeg's libraries, no ffmpeg binary)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

from tests.support.speech import RATE, dictation, read_pcm

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to my manager by Friday.",
    "We will meet at the station at half past nine tomorrow.",
    "Remember to buy milk, bread and coffee on the way home.",
]

# Codec per container: AAC is MP4's usual audio, Opus Matroska's; both have
# encoders in PyAV's bundled FFmpeg and accept 16 kHz.
AUDIO_CODECS = {".mp4": "aac", ".mkv": "libopus", ".m4a": "aac", ".ogg": "libopus", ".flac": "flac"}


def speech_wav(out: Path, sentences: list[str] = SENTENCES, pause_s: float = 1.2) -> tuple[Path, str]:
    """Sentences with pauses between them as one 16 kHz WAV, and the reference text."""
    return dictation(sentences, out, pause_s=pause_s), " ".join(sentences)


def silence_flac(out: Path, seconds: float) -> Path:
    """`seconds` of silence as 16 kHz mono FLAC, with sox's dither (the
    faintest noise, as a quiet recording has): 3 h is about 30 MB."""
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds)],
                   check=True)
    return out


def sentence_onsets(wav: Path, threshold: int = 300, min_gap_s: float = 0.8) -> list[float]:
    """Seconds at which each sentence's voice starts: after every silence
    (samples under `threshold`) of at least `min_gap_s`, and at the start."""
    import numpy as np

    loud = np.flatnonzero(np.abs(np.frombuffer(read_pcm(wav), dtype=np.int16)) > threshold) / RATE
    return [float(t) for i, t in enumerate(loud) if i == 0 or t - loud[i - 1] >= min_gap_s]


def mux(wav: Path, out: Path, video: bool = False) -> Path:
    """The WAV's PCM as the audio track of `out` (codec by suffix).

    With `video`, a small black video track comes first, so a decoder that
    took stream 0 instead of the first audio stream would fail.
    """
    import av

    pcm = read_pcm(wav)
    with av.open(str(out), "w") as container:
        picture = _video_stream(container, len(pcm) / 2 / RATE) if video else None
        audio = container.add_stream(AUDIO_CODECS[out.suffix], rate=RATE, layout="mono")
        if picture:
            _write_video(container, *picture)
        _write_audio(container, audio, pcm)
    return out


def video_only(out: Path, seconds: float = 2.0) -> Path:
    """A video file without a sound track."""
    import av

    with av.open(str(out), "w") as container:
        _write_video(container, *_video_stream(container, seconds))
    return out


def _write_audio(container, stream, pcm: bytes, chunk_samples: int = 4000) -> None:
    import av
    import numpy as np

    samples = np.frombuffer(pcm, dtype=np.int16)
    for start in range(0, len(samples), chunk_samples):
        frame = av.AudioFrame.from_ndarray(samples[None, start:start + chunk_samples].copy(),
                                           format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
        container.mux(stream.encode(frame))  # PyAV re-chunks to the codec's frame size
    container.mux(stream.encode(None))


def _video_stream(container, seconds: float, fps: int = 5):
    stream = container.add_stream("mpeg4", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    return stream, int(seconds * fps) + 1


def _write_video(container, stream, frames: int) -> None:
    import av
    import numpy as np

    black = np.zeros((stream.height, stream.width, 3), dtype=np.uint8)
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(black, format="rgb24")
        frame.pts = i
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
