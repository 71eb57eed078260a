"""Synthesized test speech: espeak-ng (and festival) to 16 kHz mono s16 WAV."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

RATE = 16_000

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to my manager by Friday.",
    "Voice dictation should never lose the last word.",
]

# Benchmark sentences: everyday dictation, 9-12 words each.
POOL = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to my manager by Friday.",
    "Voice dictation should never lose the last word.",
    "We will meet at the station at half past nine tomorrow.",
    "The weather has been cold and rainy for most of the week.",
    "Remember to buy milk, bread and coffee on the way home.",
    "Our team finished the new release two days ahead of schedule.",
    "She asked whether the library opens early on Saturday mornings.",
    "The museum closes at six so we should leave after lunch.",
    "Write a short summary of the meeting and share it with everyone.",
    "The train was delayed because of a signal failure near the city.",
    "I think the second option is cheaper and easier to maintain.",
]


def say(text: str, out: Path, voice: str = "en-us", words_per_min: int = 160) -> Path:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_min), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return w.readframes(w.getnframes())


def write_pcm(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setframerate(RATE)
        w.setnchannels(1)
        w.setsampwidth(2)
        w.writeframes(pcm)
    return path


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * RATE) * 2)


def dictation(sentences: list[str], out: Path, pause_s: float = 1.0, lead_s: float = 0.5,
              tail_s: float = 0.3) -> Path:
    """Sentences with pauses between them, as one WAV."""
    parts = [silence(lead_s)]
    for i, sentence in enumerate(sentences):
        parts.append(read_pcm(say(sentence, out.with_name(f"{out.stem}-{i}.wav"))))
        parts.append(silence(pause_s if i < len(sentences) - 1 else tail_s))
    return write_pcm(out, b"".join(parts))


def white_noise(seconds: float, amplitude: float, out: Path) -> Path:
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(out), "synth", str(seconds),
                    "whitenoise", "vol", str(amplitude)], check=True)
    return out
