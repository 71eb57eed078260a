"""One recording's pipeline: frames in, VAD, segmentation, transcription of
each committed utterance on the ASR worker while the user keeps talking."""

from __future__ import annotations

import dataclasses
import math
import threading
from concurrent.futures import Executor, Future
from typing import Any

from v2m.application.ports import EventSink, Transcriber, VoiceDetector
from v2m.domain import transcript
from v2m.domain.audio_math import FRAME_BYTES, FRAME_MS, rms
from v2m.domain.hallucination import GateOptions, keep_segment
from v2m.domain.segmenter import Segmenter, SegmenterOptions, Utterance


@dataclasses.dataclass(frozen=True)
class DictationOptions:
    segmenter: SegmenterOptions = SegmenterOptions()
    gate: GateOptions = GateOptions()
    # False: transcribe the whole recording at stop, as most dictation tools do.
    streaming: bool = True
    prompt_chars: int = 200
    provisional_interval_ms: int = 1500
    min_provisional_ms: int = 900


class DictationSession:
    def __init__(self, vad: VoiceDetector, transcriber: Transcriber, worker: Executor,
                 events: EventSink, options: DictationOptions = DictationOptions()) -> None:
        self._vad = vad
        self._transcriber = transcriber
        self._worker = worker
        self._events = events
        self.options = options
        self.pcm = bytearray()
        self._frame_rms: list[float] = []
        self._segmenter = Segmenter(options.segmenter)
        self._utterances: list[Utterance] = []
        self._finals: list[Future[Any]] = []
        self._texts: list[str] = []
        self._lock = threading.Lock()
        self._pending_finals = 0
        self._provisional: Future[Any] | None = None
        self._last_provisional = 0
        self._closed = False      # no more frames
        self._abandoned = False   # cancelled: skip queued work

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (FRAME_BYTES * 1000 / FRAME_MS)

    @property
    def text_so_far(self) -> str:
        return transcript.join(self._texts)

    def feed(self, frame: bytes) -> None:
        """Called from the capture thread for each 30 ms frame."""
        if self._closed or len(frame) != FRAME_BYTES:
            return
        self.pcm += frame
        level = rms(frame)
        self._frame_rms.append(level)
        for utterance in self._segmenter.feed(self._vad.is_speech(frame), level):
            self._commit(utterance)
        if self.options.streaming:
            self._maybe_provisional()

    def finish(self) -> str:
        """The recording has ended: transcribe the tail and return the text."""
        for utterance in self._segmenter.flush():
            self._commit(utterance)
        self._closed = True
        if not self.options.streaming and self._utterances:
            self._finals.append(self._worker.submit(self._transcribe_all))
        for future in self._finals:
            future.result()
        return self.text_so_far

    def abandon(self) -> None:
        self._closed = self._abandoned = True

    def _commit(self, utterance: Utterance) -> None:
        self._utterances.append(utterance)
        if not self.options.streaming:
            return
        pcm = bytes(self.pcm[utterance.start * FRAME_BYTES: utterance.end * FRAME_BYTES])
        with self._lock:
            self._pending_finals += 1
        self._finals.append(self._worker.submit(self._transcribe_final, utterance, pcm))

    def _level(self, start: int, end: int) -> float:
        frames = self._frame_rms[start:end]
        return math.sqrt(sum(r * r for r in frames) / len(frames)) if frames else 0.0

    def _transcribe_final(self, utterance: Utterance, pcm: bytes) -> None:
        try:
            if self._abandoned:
                return
            text = self._transcribe(pcm, utterance.speech_frames / utterance.frames,
                                    self._level(utterance.start, utterance.end))
            if text:
                self._texts.append(text)
                self._publish(self.text_so_far, final=True)
        finally:
            with self._lock:
                self._pending_finals -= 1

    def _transcribe_all(self) -> None:
        speech = sum(u.speech_frames for u in self._utterances)
        frames = len(self._frame_rms)
        text = self._transcribe(bytes(self.pcm), speech / max(1, frames), self._level(0, frames))
        if text:
            self._texts.append(text)

    def _transcribe(self, pcm: bytes, speech_ratio: float, level: float) -> str:
        prompt = transcript.prompt_tail(self.text_so_far, self.options.prompt_chars)
        segments = self._transcriber.transcribe(pcm, prompt)
        return transcript.join([s.text for s in segments
                                if keep_segment(s, speech_ratio, level, self.options.gate)])

    def _maybe_provisional(self) -> None:
        """While the worker is idle, re-read the open utterance now and then,
        so subscribers see words appear before the utterance is committed."""
        start = self._segmenter.open_start
        now = self._segmenter.frames_seen
        ms = self.options.segmenter.frame_ms
        if start is None or (now - start) * ms < self.options.min_provisional_ms:
            return
        if (now - self._last_provisional) * ms < self.options.provisional_interval_ms:
            return
        with self._lock:
            busy = self._pending_finals > 0 or (self._provisional is not None and not self._provisional.done())
        if busy:
            return
        self._last_provisional = now
        pcm = bytes(self.pcm[start * FRAME_BYTES: now * FRAME_BYTES])
        self._provisional = self._worker.submit(self._transcribe_provisional, start, now, pcm)

    def _transcribe_provisional(self, start: int, end: int, pcm: bytes) -> None:
        with self._lock:
            stale = self._closed or self._abandoned or self._pending_finals > 0
        if stale:
            return  # committed work comes first; a newer pass will follow
        text = self._transcribe(pcm, 1.0, self._level(start, end))
        if text and not self._closed:
            self._publish(transcript.join([self.text_so_far, text]), final=False)

    def _publish(self, text: str, *, final: bool) -> None:
        self._events.publish({"type": "transcription_update", "text": text, "final": final})
