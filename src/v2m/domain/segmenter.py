"""Utterance segmentation from per-frame VAD decisions. Pure: works on frame
indexes and energies, never on audio bytes, so it is cheap to unit-test.

An utterance opens at the first speech frame (minus a pre-roll, so word
starts are not cut) and is committed after `min_silence_ms` of silence.
Utterances longer than `max_utterance_ms` are split at their quietest frame,
because Whisper sees at most 30 s at a time.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SegmenterOptions:
    frame_ms: int = 30
    min_silence_ms: int = 600
    preroll_ms: int = 300
    # Trailing silence kept after the last speech frame (Whisper likes a little).
    postroll_ms: int = 240
    max_utterance_ms: int = 25_000
    # An utterance needs this much VAD speech, or it is noise (a click, a breath).
    min_speech_ms: int = 150


@dataclasses.dataclass(frozen=True)
class Utterance:
    """Frames [start, end) of the recording, and how many were speech."""

    start: int
    end: int
    speech_frames: int

    @property
    def frames(self) -> int:
        return self.end - self.start


class Segmenter:
    def __init__(self, options: SegmenterOptions = SegmenterOptions()) -> None:
        self.options = options
        ms = options.frame_ms
        self._silence_limit = max(1, options.min_silence_ms // ms)
        self._preroll = options.preroll_ms // ms
        self._postroll = options.postroll_ms // ms
        self._max_frames = max(2, options.max_utterance_ms // ms)
        self._min_speech = max(1, options.min_speech_ms // ms)
        self._frame = 0          # index of the next frame
        self._floor = 0          # frames before this are committed
        self._open: int | None = None  # start frame of the open utterance
        self._last_speech = -1
        # Per frame of the open utterance: VAD decision and energy.
        self._speech: list[bool] = []
        self._energy: list[float] = []

    @property
    def frames_seen(self) -> int:
        return self._frame

    @property
    def open_start(self) -> int | None:
        """Start frame of the utterance being spoken, if any."""
        return self._open

    @property
    def in_pause(self) -> bool:
        """The open utterance's last frame was not speech."""
        return self._open is not None and self._last_speech < self._frame - 1

    def settled(self) -> Utterance | None:
        """The open utterance exactly as it will be committed, once its post-roll
        of silence has passed; None while speech may still extend it."""
        if self._open is None:
            return None
        end = self._last_speech + 1 + self._postroll
        if self._frame < end:
            return None
        speech = sum(self._speech[: end - self._open])
        return Utterance(self._open, end, speech) if speech >= self._min_speech else None

    def feed(self, is_speech: bool, energy: float = 0.0) -> list[Utterance]:
        """Add one frame's VAD decision; return utterances committed by it."""
        index = self._frame
        self._frame += 1
        out: list[Utterance] = []
        if self._open is None:
            if not is_speech:
                return out
            self._open = max(self._floor, index - self._preroll)
            self._speech = [False] * (index - self._open)
            self._energy = [0.0] * (index - self._open)
        self._speech.append(is_speech)
        self._energy.append(energy)
        if is_speech:
            self._last_speech = index
        elif index - self._last_speech >= self._silence_limit:
            out += self._commit(self._last_speech + 1 + self._postroll)
        if self._open is not None and self._frame - self._open >= self._max_frames:
            out += self._split()
        return out

    def flush(self) -> list[Utterance]:
        """End of recording: commit whatever is open."""
        if self._open is None:
            return []
        return self._commit(min(self._frame, self._last_speech + 1 + self._postroll))

    def _commit(self, end: int) -> list[Utterance]:
        assert self._open is not None
        end = max(min(end, self._frame), self._open + 1)
        utterance = Utterance(self._open, end, sum(self._speech[: end - self._open]))
        self._floor = end
        self._open = None
        self._speech, self._energy = [], []
        return [utterance] if utterance.speech_frames >= self._min_speech else []

    def _split(self) -> list[Utterance]:
        """Cut at the quietest frame of the latter half, keep the rest open."""
        assert self._open is not None
        half = len(self._energy) // 2
        quietest = min(range(half, len(self._energy)), key=self._energy.__getitem__)
        utterance = Utterance(self._open, self._open + quietest, sum(self._speech[:quietest]))
        self._floor = self._open = utterance.end
        self._speech, self._energy = self._speech[quietest:], self._energy[quietest:]
        return [utterance]
