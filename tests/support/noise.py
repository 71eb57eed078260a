"""Noisy rooms for VAD tests: brown, pink and babble noise, and speech mixed
with them at a given SNR, the noise running before, during and after it.

Levels: the speech is set to SPEECH_DBFS (RMS over its sentences, without
the pauses between them; softer sentences are lowered after that), then the
noise to SPEECH_DBFS - snr_db (RMS over the whole noise).
Spans are sample offsets [start, end) of each sentence in the mix, its ends
trimmed at -40 dB of the sentence's peak: the true onsets and ends.
"""

from __future__ import annotations

import dataclasses
import math
import time
import zlib
from pathlib import Path

import numpy as np

from tests.support.speech import RATE, read_pcm, say
from v2m.domain.audio_math import rms
from v2m.domain.segmenter import Segmenter, SegmenterOptions, Utterance

SPEECH_DBFS = -20.0
KINDS = ("brown", "pink", "babble")
LOW_CUT_HZ = 20.0   # microphones do not pass DC and rumble below this
HESITATION_S = 0.45

BABBLE_SENTENCES = [
    "Did anyone see where I left the blue folder this morning?",
    "The printer on the second floor is out of paper again.",
    "I would rather take the bus than drive in this traffic.",
    "Lunch is in the kitchen if you want some before it gets cold.",
    "He said the parcel would arrive sometime after three.",
    "Could you turn the music down a little while I am on the phone?",
]
BABBLE_VOICES = ["en-gb+f3", "en-us+m3", "en-gb-scotland", "en-us+f2", "en-029", "en-gb-x-rp+m4"]


@dataclasses.dataclass(frozen=True)
class Scene:
    """Clean speech on a timeline, before noise is added."""

    clean: np.ndarray                       # float, full scale 1.0
    spans: tuple[tuple[int, int], ...]      # sentences, [start, end) samples

    @property
    def end(self) -> int:
        """Sample where the last word ends."""
        return self.spans[-1][1]


def to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def to_pcm(x: np.ndarray) -> bytes:
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()


def trim(x: np.ndarray, rel_db: float = -40.0) -> np.ndarray:
    """Cut the leading and trailing samples below rel_db of the peak."""
    loud = np.flatnonzero(np.abs(x) >= np.abs(x).max() * 10 ** (rel_db / 20))
    return x[loud[0]: loud[-1] + 1] if loud.size else x[:0]


def _level(x: np.ndarray, dbfs: float) -> np.ndarray:
    power = np.mean(x ** 2)
    return x * (10 ** (dbfs / 20) / np.sqrt(power)) if power > 0 else x


def scene(sentences: list[np.ndarray], pause_s: float = 1.0, lead_s: float = 1.0,
          tail_s: float = 1.5, gains_db: list[float] | None = None) -> Scene:
    """Sentences (trimmed float audio) at SPEECH_DBFS, with `pause_s` between
    them; `gains_db` lowers single sentences (soft speech) after leveling."""
    level = 10 ** (SPEECH_DBFS / 20) / np.sqrt(np.mean(np.concatenate(sentences) ** 2))
    parts, spans, at = [np.zeros(int(lead_s * RATE))], [], int(lead_s * RATE)
    for i, sentence in enumerate(sentences):
        gain = 10 ** ((gains_db[i] if gains_db else 0.0) / 20)
        parts.append(sentence * level * gain)
        spans.append((at, at + len(sentence)))
        at += len(sentence)
        gap = int((pause_s if i < len(sentences) - 1 else tail_s) * RATE)
        parts.append(np.zeros(gap))
        at += gap
    return Scene(np.concatenate(parts), tuple(spans))


def spoken(text: str, work: Path, voice: str = "en-us") -> np.ndarray:
    """espeak-ng's `text`, trimmed, cached in `work`."""
    path = work / f"say-{zlib.crc32(f'{voice}|{text}'.encode()):08x}.wav"
    if not path.exists():
        say(text, path, voice=voice)
    return trim(to_float(read_pcm(path)))


def hesitant(text: str, work: Path, pause_s: float = HESITATION_S) -> np.ndarray:
    """A sentence said in two halves with a pause (shorter than the
    Segmenter's min_silence) between them."""
    words = text.split()
    half = len(words) // 2
    return np.concatenate([spoken(" ".join(words[:half]), work), np.zeros(int(pause_s * RATE)),
                           spoken(" ".join(words[half:]), work)])


def dictation(texts: list[str], work: Path, soft_db: float = 0.0) -> Scene:
    """Three sentences, 1 s apart; the middle one hesitant and `soft_db` quieter."""
    parts = [spoken(texts[0], work), hesitant(texts[1], work), spoken(texts[2], work)]
    return scene(parts, gains_db=[0.0, soft_db, 0.0])


def mix(scene_: Scene, noise: np.ndarray | None, snr_db: float) -> bytes:
    """The scene's speech plus `noise` at SPEECH_DBFS - snr_db, as s16 PCM."""
    if noise is None:
        return to_pcm(scene_.clean)
    return to_pcm(scene_.clean + noise_at(noise, len(scene_.clean), SPEECH_DBFS - snr_db))


def noise_at(noise: np.ndarray, samples: int, dbfs: float) -> np.ndarray:
    """`noise` looped or cut to `samples`, at `dbfs` RMS."""
    reps = -(-samples // len(noise))
    return _level(np.tile(noise, reps)[:samples], dbfs)


def colored(kind: str, seconds: float, seed: int = 0) -> np.ndarray:
    """Brown (power 1/f^2) or pink (1/f) noise, shaped in the frequency
    domain from white Gaussian noise, nothing below LOW_CUT_HZ; RMS 1."""
    n = int(seconds * RATE)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    exponent = {"brown": 1.0, "pink": 0.5, "white": 0.0}[kind]
    shape = np.zeros_like(freqs)
    passed = freqs >= LOW_CUT_HZ
    shape[passed] = freqs[passed] ** -exponent
    return _level(np.fft.irfft(spectrum * shape, n), 0.0)


def babble(seconds: float, work: Path, talkers: int = 4, seed: int = 0) -> np.ndarray:
    """Other espeak-ng talkers (voices and sentences of their own), each
    looping its sentences with short gaps from a random offset, at equal
    levels, summed; RMS 1. Mixed at 10 dB SNR, it is the issue's "other
    sentences at -10 dB"."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    total = np.zeros(n)
    for t in range(talkers):
        voice = BABBLE_VOICES[t % len(BABBLE_VOICES)]
        lines = [spoken(BABBLE_SENTENCES[(t + k) % len(BABBLE_SENTENCES)], voice=voice, work=work)
                 for k in range(3)]
        gap = np.zeros(int(rng.uniform(0.15, 0.4) * RATE))
        stream = np.concatenate([np.concatenate([line, gap]) for line in lines])
        stream = np.tile(stream, -(-(n + len(stream)) // len(stream)))
        start = int(rng.integers(0, len(stream) - n))
        total += _level(stream[start: start + n], 0.0)
    return _level(total, 0.0)


def make_noise(kind: str, seconds: float, work: Path, seed: int = 0) -> np.ndarray:
    if kind == "babble":
        return babble(seconds, work, seed=seed)
    return colored(kind, seconds, seed)


# -- following a detector and the real Segmenter through a mix -----------------

FRAME = 480   # samples per 30 ms frame


@dataclasses.dataclass
class Trace:
    """What a detector and the Segmenter made of a mix, frame by frame."""

    speech: list[bool]                  # the detector's decision per frame
    quiet: list[bool]                   # after each frame: nothing open, or it has settled
    utterances: list[Utterance]         # committed (and flushed at the end), in order
    postroll: int                       # the Segmenter's post-roll, frames
    seconds: float = 0.0                # time spent in is_speech

    def decided_end_ms(self, span: tuple[int, int]) -> float:
        """Where the Segmenter put the end of a sentence (its last utterance's
        end less the post-roll: the last frame called speech) relative to the
        sentence's true end, in ms; inf if still open when the mix ends,
        -inf if the sentence was missed."""
        inside = [u for u in self.utterances if u.start * FRAME < span[1] and u.end * FRAME > span[0]]
        if not inside:
            return -math.inf
        if inside[-1].end >= len(self.speech):
            return math.inf
        return ((inside[-1].end - self.postroll) * FRAME - span[1]) * 1000 / RATE

    def quiet_at(self, sample: int) -> bool:
        """A stop at `sample` finds the tail silent: the "ready" path is open."""
        return self.quiet[min(len(self.quiet), sample // FRAME) - 1]

    def settled_ms(self, end: int, stop: int) -> float:
        """From a sentence's end to the frame from which the tail stays settled
        until a stop at sample `stop` (the speculative pass can start); inf if
        it is not settled at the stop."""
        last = min(len(self.quiet), stop // FRAME)
        frame = last
        while frame > end // FRAME and self.quiet[frame - 1]:
            frame -= 1
        return math.inf if frame == last else ((frame + 1) * FRAME - end) * 1000 / RATE

    def onset_delay_ms(self, start: int) -> float:
        """From a sentence's first sample to the first frame called speech
        (0 when the frame before was speech already)."""
        frame = start // FRAME
        if frame > 0 and self.speech[frame - 1]:
            return 0.0
        while frame < len(self.speech) and not self.speech[frame]:
            frame += 1
        return max(0.0, (frame * FRAME - start) * 1000 / RATE)

    def clipped_ms(self, span: tuple[int, int]) -> float:
        """Audio of a sentence's start left out of every utterance (ms)."""
        inside = [u for u in self.utterances if u.start * FRAME < span[1] and u.end * FRAME > span[0]]
        if not inside:
            return (span[1] - span[0]) * 1000 / RATE
        return max(0.0, (inside[0].start * FRAME - span[0]) * 1000 / RATE)

    def false_commits(self, spans) -> int:
        """Utterances that end inside a sentence (a pause in it taken for its end)."""
        return sum(1 for u in self.utterances for a, b in spans if a < u.end * FRAME < b - FRAME)

    def noise_utterances(self, spans) -> int:
        """Utterances that hold no speech at all."""
        return sum(1 for u in self.utterances
                   if not any(u.start * FRAME < b and u.end * FRAME > a for a, b in spans))


def follow(detector, pcm: bytes, options: SegmenterOptions | None = None) -> Trace:
    """Frames -> detector -> Segmenter (with RMS levels, as the session feeds it)."""
    options = options or SegmenterOptions()
    segmenter = Segmenter(options)
    trace = Trace([], [], [], options.postroll_ms // options.frame_ms)
    clock = 0.0
    for at in range(0, len(pcm) - FRAME * 2 + 1, FRAME * 2):
        frame = pcm[at: at + FRAME * 2]
        started = time.perf_counter()
        speech = detector.is_speech(frame)
        clock += time.perf_counter() - started
        trace.speech.append(speech)
        trace.utterances += segmenter.feed(speech, rms(frame))
        trace.quiet.append(segmenter.open_start is None or segmenter.settled() is not None)
    trace.utterances += segmenter.flush()
    trace.seconds = clock
    return trace
