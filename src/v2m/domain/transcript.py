"""Assembling the dictation's text from utterances transcribed in order."""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Callable

_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def join(parts: list[str]) -> str:
    return clean(" ".join(p for p in parts if p and p.strip()))


def prompt_tail(text: str, max_chars: int = 200) -> str:
    """The end of the text so far, cut at a word boundary, as the next prompt."""
    text = clean(text)
    if len(text) <= max_chars:
        return text
    tail = text[-max_chars:]
    space = tail.find(" ")
    return tail[space + 1:] if 0 <= space < len(tail) - 1 else tail


_WORD = re.compile(r"[a-z0-9']+")


def echoes(text: str, earlier: str, share: float = 0.7) -> bool:
    """Whether `text` mostly repeats `earlier`: most of its words, in order.

    Given noise after a sentence it has just read, Whisper tends to say that
    sentence again; real new speech shares a few common words at most.
    """
    new, old = _WORD.findall(text.lower()), _WORD.findall(earlier.lower())
    if not new or not old:
        return False
    # Longest common subsequence of words, one row at a time.
    row = [0] * (len(old) + 1)
    for word in new:
        diagonal = 0
        for j, other in enumerate(old, 1):
            diagonal, row[j] = row[j], diagonal + 1 if word == other else max(row[j], row[j - 1])
    return row[-1] >= share * len(new)


def repeats_a_phrase(text: str, words: int = 4) -> bool:
    """Some run of `words` words occurs twice: over a few seconds of speech,
    Whisper saying a sentence again, not the speaker."""
    tokens = _WORD.findall(text.lower())
    runs = [tuple(tokens[i:i + words]) for i in range(len(tokens) - words + 1)]
    return len(set(runs)) < len(runs)


def _words(words: list[str]) -> list[str]:
    """Each whitespace word as `echoes` compares it: "City," is "city"."""
    return ["".join(_WORD.findall(w.lower())) for w in words]


# A correction of an utterance inserts at most this many words in a row.
MAX_INSERTED_WORDS = 3


def split_revision(first: str, both: str) -> tuple[str, str]:
    """`both`, a reading of two utterances together, cut where the first
    one's own reading (`first`) ends: (its revised text, the second's).

    The words of `first` are aligned with those of `both`; the cut falls
    after the last aligned word plus the words of `first` past it, which a
    revision typically replaces one for one ("lazy tard." -> "lazy dog.").
    """
    old, new = first.split(), both.split()
    # A block that lies far further on in `both` than in `first` is a common
    # word of the second's ("and", "the"), not the first's end: the
    # alignment stops before it.
    a_end = b_end = 0
    for block in difflib.SequenceMatcher(None, _words(old), _words(new), autojunk=False).get_matching_blocks():
        if not block.size or (block.b - b_end) - (block.a - a_end) > MAX_INSERTED_WORDS:
            break
        a_end, b_end = block.a + block.size, block.b + block.size
    cut = b_end + len(old) - a_end
    cut = max(0, min(cut, len(new)))
    return " ".join(new[:cut]), " ".join(new[cut:])


def cut_readings(told: list[str], text: str) -> tuple[list[str], str]:
    """`text`, one reading of several utterances in a row (and maybe of
    more after them), cut where each one's own reading (`told`, in order)
    ends: the parts up to the first that shares too few words with its own
    reading to be a correction of it (the cut went astray, or the new
    reading heard something else), and the text after the last part taken."""
    parts: list[str] = []
    rest = text
    for old in told:
        if not old:  # nothing was heard there: nothing to align
            parts.append(old)
            continue
        part, after = split_revision(old, rest)
        if not echoes(part, old, 0.5):
            break
        parts.append(part)
        rest = after
    return parts, rest


def split_readings(told: list[str], text: str) -> list[str]:
    """`text`, one reading of the utterances `told` (their own readings),
    cut into each one's part; the last takes the rest. From the first part
    that is no correction of its reading (cut_readings) on, each keeps its
    own reading."""
    if not told:
        return []
    parts, rest = cut_readings(told[:-1], text)
    if len(parts) < len(told) - 1:
        return parts + told[len(parts):]
    last = told[-1]
    return parts + [rest if last and echoes(rest, last, 0.5) else last]


@dataclasses.dataclass(frozen=True)
class HeardBefore:
    """The audio just before the audio to transcribe, and the text already
    made of it: read again in front of it, it gives Whisper the acoustic and
    language context a whole-recording pass has, and is not transcribed anew
    (the text is forced as the decoder's prefix)."""

    pcm: bytes
    text: str


# Audio read in a quick window ends this long before the window does: the
# window is fixed, and speech running up to its edge lost its last words.
WINDOW_MARGIN_S = 0.5
FULL_WINDOW_S = 30  # Whisper's own


def fits_window(seconds: float, window_s: int) -> bool:
    """Whether `seconds` of audio may be read in a quick window of `window_s` (0: none)."""
    return bool(window_s) and seconds < window_s - WINDOW_MARGIN_S


@dataclasses.dataclass(frozen=True)
class DecodeRequest:
    """One pass as the dictation session chose it; the transcriber does what
    it says. The session decides the window, the beam and the context (see
    application/dictation_session.py); the engine only knows how."""

    prompt: str = ""
    beam_size: int = 5
    # Encoder window in seconds: 0 is Whisper's full 30 s. A shorter one costs
    # less; audio that does not fit it, or a degenerate output, gets the full one.
    window_s: int = 0
    # Read this context again in front of the audio, its text forced as the
    # decoder's prefix. The engine answers None when it cannot make that
    # reading (the context does not fit the window, or the output degenerates).
    before: HeardBefore | None = None
    # An ISO code or "auto"; None: the engine's configured language.
    language: str | None = None
    # Told the language the pass was read in and how sure the engine is of
    # it: the probability of a detection, 1.0 for a language it was given.
    # An engine that cannot tell (a remote server's "auto") does not call it.
    on_language: Callable[[str, float], None] | None = None
    # With "auto": when the detection is unsure between two languages, also
    # decode in the runner-up and keep the likelier text (a second decoding,
    # only then). Off for passes whose text is soon replaced.
    runner_up: bool = True
    # With "auto": the language the user's last dictation was sure of. When
    # the detection is unsure and this is one of its two likeliest, the pass
    # is read in it alone (see language_detect.likely_languages).
    prefer: str = ""
    # Decode Whisper's timestamp tokens too, as a whole-recording pass does
    # (the model learned mostly with them). Full-window passes only; the
    # text is the same kind, cut into segments at the timestamps.
    timestamps: bool = False


# Timed transcripts of files (subtitles renders them).


@dataclasses.dataclass(frozen=True)
class TimedSegment:
    start_s: float
    end_s: float
    text: str


@dataclasses.dataclass(frozen=True)
class FileTranscript:
    path: str
    duration_s: float
    language: str
    segments: tuple[TimedSegment, ...]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclasses.dataclass(frozen=True)
class TimedWord:
    start_s: float
    end_s: float
    text: str  # as Whisper gives it: with its leading space, and punctuation attached
