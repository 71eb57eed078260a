"""The daemon's current model, swappable at run time.

A new model is loaded beside the old one; only when it has loaded does it
replace the old one, so a failed load keeps the daemon dictating.
"""

from __future__ import annotations

import threading
from typing import Callable

from v2m.application.ports import Transcriber
from v2m.domain.hallucination import SegmentScore
from v2m.domain.transcript import DecodeRequest


class ModelSlot:
    """A Transcriber that forwards to whichever model is current."""

    def __init__(self, initial: Transcriber) -> None:
        self._current = initial
        self._lock = threading.Lock()

    @property
    def current(self) -> Transcriber:
        return self._current

    @property
    def model_name(self) -> str:
        return self._current.model_name

    def load(self) -> None:
        self._current.load()

    def transcribe(self, pcm: bytes, request: DecodeRequest) -> list[SegmentScore] | None:
        return self._current.transcribe(pcm, request)

    def prepare(self, build: Callable[[], Transcriber]) -> Transcriber:
        """Build and load a replacement; raises (and changes nothing) on failure."""
        candidate = build()
        candidate.load()
        return candidate

    def swap(self, new: Transcriber) -> None:
        with self._lock:
            self._current = new
