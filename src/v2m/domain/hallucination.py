"""Whisper invents text from silence and noise ("Thank you.", "you").

We gate on three things, cheapest first: the VAD (no speech, no pass at
all), Whisper's own confidence (no_speech_prob with a low log-prob), and,
only when the audio under it is weak, a list of phrases Whisper is known to
invent.
"""

from __future__ import annotations

import dataclasses
import re

# Phrases from Whisper's training captions that it produces from near-silence.
KNOWN_PHRASES = frozenset({
    "you", "thank you", "thanks", "thank you very much", "thanks for watching",
    "thank you for watching", "thanks for listening", "bye", "bye bye", "okay", "oh",
    "so", "um", "uh", "hmm", "the end", "please subscribe", "subscribe",
    "subtitles by the amara org community", "i'm sorry", "music",
})

_NON_WORD = re.compile(r"[^a-z' ]+")


@dataclasses.dataclass(frozen=True)
class SegmentScore:
    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float = 1.0


@dataclasses.dataclass(frozen=True)
class GateOptions:
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    # Whisper's rule misses noise read after speech, with the text so far as
    # prompt: measured here, white noise after a sentence came out as
    # "I'm going to do that." or "Hey, hey, hey." at no_speech_prob 0.47-0.59
    # and log-prob -1.16 to -1.88, where the sentences scored 0.05-0.16 and
    # -0.18 to -0.65. Below the log-prob threshold this lower no-speech bar drops it.
    doubtful_no_speech: float = 0.4
    compression_ratio_threshold: float = 2.4
    # Audio counts as weak below this share of VAD speech frames...
    weak_speech_ratio: float = 0.35
    # ...or below this RMS level (of full scale, 0..1).
    weak_rms: float = 0.01
    # A known phrase over strong audio is still dropped above this no_speech_prob.
    known_phrase_no_speech: float = 0.5


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def is_weak(speech_ratio: float, rms: float, options: GateOptions = GateOptions()) -> bool:
    """Audio too sparse or too quiet for Whisper's text alone to be trusted."""
    return speech_ratio < options.weak_speech_ratio or rms < options.weak_rms


def keep_segment(seg: SegmentScore, speech_ratio: float, rms: float,
                 options: GateOptions = GateOptions()) -> bool:
    """Decide whether a transcribed segment is real speech."""
    if not normalise(seg.text):
        return False
    if seg.avg_logprob < options.logprob_threshold and seg.no_speech_prob > options.doubtful_no_speech:
        return False  # Whisper's own silence rule, with a lower no-speech bar
    if seg.compression_ratio > options.compression_ratio_threshold:
        return False  # "the the the the ..."
    if normalise(seg.text) not in KNOWN_PHRASES:
        return True
    # A stock phrase survives only over clear speech that Whisper is sure of:
    # noise loud enough to fool the VAD still scores a high no_speech_prob.
    return not is_weak(speech_ratio, rms, options) and seg.no_speech_prob < options.known_phrase_no_speech
