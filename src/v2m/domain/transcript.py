"""Assembling the dictation's text from utterances transcribed in order."""

from __future__ import annotations

import dataclasses
import re

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


@dataclasses.dataclass(frozen=True)
class HeardBefore:
    """The audio just before the audio to transcribe, and the text already
    made of it: read again in front of it, it gives Whisper the acoustic and
    language context a whole-recording pass has, and is not transcribed anew
    (the text is forced as the decoder's prefix)."""

    pcm: bytes
    text: str
