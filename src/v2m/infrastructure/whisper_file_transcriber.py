"""Audio and video files to timed transcripts, on the daemon's warm WhisperModel."""

from __future__ import annotations

import logging
from typing import Callable

from v2m.domain.hallucination import SegmentScore, keep_segment
from v2m.domain.subtitles import FileTranscript, TimedSegment, clean_timeline
from v2m.infrastructure.faster_whisper_transcriber import WhisperOptions
from v2m.infrastructure.media_files import SAMPLE_RATE_HZ, check_readable, decode

log = logging.getLogger(__name__)

# BatchedInferencePipeline or sequential WhisperModel.transcribe, for files
# longer than BATCHED_MIN_S. Decided by bench/file_transcription.py
# (tiny.en, int8, 2-core CPU, 3-minute file): see USE_BATCHED_NOTE.
USE_BATCHED = False
USE_BATCHED_NOTE = "not yet measured"
BATCHED_MIN_S = 60.0
BATCH_SIZE = 8


class WhisperFileTranscriber:
    """The FileTranscriber port over faster-whisper.

    `model` returns the loaded faster_whisper.WhisperModel (raising
    ModelError if there is none); `options` the current decoding settings.
    `batched` forces the batched pipeline on (True) or off (False) for long
    files; None takes the measured default.
    """

    def __init__(self, model: Callable[[], object], options: Callable[[], WhisperOptions],
                 batched: bool | None = None, batch_size: int = BATCH_SIZE) -> None:
        self._model = model
        self._options = options
        self._batched = USE_BATCHED if batched is None else batched
        self._batch_size = batch_size

    def transcribe_file(self, path: str, on_progress: Callable[[float, float], None] | None = None,
                        prompt: str = "") -> FileTranscript:
        check_readable(path)
        model = self._model()  # before decoding: no point decoding for a missing model
        audio = decode(path)
        duration = len(audio) / SAMPLE_RATE_HZ
        options = self._options()
        language = None if options.language == "auto" else options.language
        if len(audio) == 0:
            return FileTranscript(path, 0.0, language or "", ())
        segments, info = self._engine(model, duration).transcribe(
            audio, language=language, task=options.task, beam_size=options.beam_size,
            initial_prompt=prompt or None, vad_filter=True, without_timestamps=False,
            **({"batch_size": self._batch_size} if self._use_batched(duration) else {}))
        kept = []
        for seg in segments:  # a generator: decoding happens as we iterate
            if _is_speech(seg, audio):
                kept.append(TimedSegment(seg.start, seg.end, seg.text.strip()))
            if on_progress:
                on_progress(min(seg.end, duration), duration)
        if on_progress:
            on_progress(duration, duration)
        return clean_timeline(FileTranscript(path, duration, info.language, tuple(kept)))

    def _use_batched(self, duration_s: float) -> bool:
        # Short files are one or two 30 s windows: batching has nothing to batch.
        return self._batched and duration_s > BATCHED_MIN_S

    def _engine(self, model, duration_s: float):
        if not self._use_batched(duration_s):
            return model
        from faster_whisper import BatchedInferencePipeline

        # Made per file (it only wraps the model): a cached one would keep an
        # old model alive after the daemon reloads another.
        return BatchedInferencePipeline(model)


def _is_speech(seg, audio) -> bool:
    """The dictation's hallucination gate, per segment.

    vad_filter=True has already cut the audio down to what Silero calls
    speech, so the speech share is taken as 1; the level is measured under
    the segment, which still tells a stock "Thank you." over faint noise.
    """
    import numpy as np

    start = int(max(seg.start, 0.0) * SAMPLE_RATE_HZ)
    window = audio[start:max(int(seg.end * SAMPLE_RATE_HZ), start + 1)]
    rms = float(np.sqrt(np.mean(np.square(window)))) if len(window) else 0.0
    score = SegmentScore(seg.text, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio)
    kept = keep_segment(score, speech_ratio=1.0, rms=rms)
    if not kept:
        log.debug("dropped segment %.2f-%.2f s as invented: %r", seg.start, seg.end, seg.text)
    return kept
