"""Timed transcripts of files and their output formats (txt, srt, vtt, json).
Pure functions, no I/O."""

from __future__ import annotations

import dataclasses

FORMATS = ("txt", "srt", "vtt", "json")


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
