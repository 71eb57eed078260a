"""Audio and video files to timed transcripts, on the daemon's warm WhisperModel."""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Iterable

from v2m.domain.hallucination import GateOptions, SegmentScore, keep_segment
from v2m.domain.subtitles import clean_timeline, cues_from_words
from v2m.domain.transcript import FileTranscript, TimedSegment, TimedWord
from v2m.infrastructure.audio.audio_chunks import Chunk, ChunkOptions, chunks
from v2m.infrastructure.asr.faster_whisper_transcriber import WhisperOptions
from v2m.infrastructure.audio.media_files import SAMPLE_RATE_HZ, open_audio

log = logging.getLogger(__name__)

# Files longer than BATCHED_MIN_S go through faster-whisper's
# BatchedInferencePipeline. bench/file_transcription.py, 182 s of espeak-ng
# speech (422 words), tiny.en int8, this 2-core CPU, 3 interleaved reps,
# median wall time / reference words lost / WER / cue onset error:
#   sequential, segment timestamps    10.73 s  1.00x   3 lost  WER 0.102  753 ms
#   sequential, word timestamps       10.33 s  0.96x   0 lost  WER 0.109  120 ms
#   batched 4, segment timestamps      6.76 s  0.63x  24 lost  WER 0.149  387 ms
#   batched 4, word timestamps         6.92 s  0.65x   2 lost  WER 0.109  152 ms
#   batched 8, word timestamps         7.02 s  0.65x   2 lost  WER 0.109  152 ms
# With its own timestamps the batched pipeline decodes each 30 s chunk once
# and drops the speech after an early closing timestamp (whole sentences);
# without them, cues come from the aligned words, which also follow the
# speech far closer than Whisper's segment timestamps. So: batched, batch 4,
# word timestamps, for long files; word timestamps for short ones too.
USE_BATCHED = True
BATCHED_MIN_S = 60.0   # shorter files are one or two windows: nothing to batch
BATCH_SIZE = 4         # 8 was no faster on 2 cores, and holds more memory

# Files are decoded and transcribed CHUNK_S at a time, so memory stays flat in
# their length: whole, 3 h of silence (FLAC) peaked at 2,537 MiB RSS; in
# chunks of 10 min, at 594 MiB (1 h: 577 MiB), in 26 s on this 2-core CPU
# (tiny.en; tests/adversarial/test_hostile_files.py). 5 min chunks: 537 MiB.
# A file no longer than this is one chunk, transcribed as before.
CHUNK_S = 600.0


class WhisperFileTranscriber:
    """The FileTranscriber port over faster-whisper.

    `model` returns the loaded faster_whisper.WhisperModel (raising
    ModelError if there is none); `options` the current decoding settings.
    `batched` forces the batched pipeline on or off for long files (tests,
    benchmarks); None takes the measured default. `chunk_s` bounds the audio
    transcribed at once (tests).
    """

    def __init__(self, model: Callable[[], object], options: Callable[[], WhisperOptions],
                 batched: bool | None = None, chunk_s: float = CHUNK_S) -> None:
        self._model = model
        self._options = options
        self._batched = USE_BATCHED if batched is None else batched
        self._chunks = ChunkOptions(chunk_s=chunk_s)

    def transcribe_file(self, path: str, on_progress: Callable[[float, float], None] | None = None,
                        prompt: str = "") -> FileTranscript:
        with open_audio(path) as media:  # opened once and checked; decoded from that descriptor
            model = self._model()  # before decoding: no point decoding for a missing model
            options = self._options()
            progress = _Progress(on_progress, media.duration_s)
            language = None if options.language == "auto" else options.language
            reported, cues, end = None, [], 0
            for chunk in chunks(media.blocks(), self._chunks):
                progress.chunk(chunk)
                end = chunk.end_sample
                if len(chunk.audio) == 0:
                    continue
                found, detected = self._chunk_cues(model, chunk, options, language, prompt, progress)
                cues += found
                reported = reported or detected
                if found and language is None:  # speech: the file's language from here on
                    language = reported = detected
        duration = end / SAMPLE_RATE_HZ
        if duration:
            progress.report(duration)
        language = reported or ("" if options.language == "auto" else options.language)
        return clean_timeline(FileTranscript(path, duration, language, tuple(cues)))

    def _chunk_cues(self, model, chunk: Chunk, options: WhisperOptions, language: str | None, prompt: str,
                    progress: _Progress) -> tuple[list[TimedSegment], str]:
        """One chunk's cues, in the file's time, and the language it was read in."""
        offset_s = chunk.start_sample / SAMPLE_RATE_HZ
        segments, detected = self._run(model, chunk.audio, options, language, prompt)
        cues: list[TimedSegment] = []
        for seg in segments:  # generators: decoding happens as we iterate
            if _is_speech(seg, chunk.audio):
                cues += [dataclasses.replace(c, start_s=c.start_s + offset_s, end_s=c.end_s + offset_s)
                         for c in _cues(seg)]
            progress.report(offset_s + seg.end)
        return cues, detected

    def _run(self, model, audio, options: WhisperOptions, language: str | None,
             prompt: str) -> tuple[Iterable, str]:
        common = dict(language=language, task=options.task,
                      beam_size=options.beam_size, initial_prompt=prompt or None, word_timestamps=True)
        if not (self._batched and len(audio) > BATCHED_MIN_S * SAMPLE_RATE_HZ):
            segments, info = model.transcribe(audio, vad_filter=True, **common)
            return segments, info.language
        from faster_whisper import BatchedInferencePipeline

        # Made per file (it only wraps the model): a cached one would keep an
        # old model alive after the daemon loads another.
        segments, info = BatchedInferencePipeline(model).transcribe(
            audio, vad_filter=True, without_timestamps=True, batch_size=BATCH_SIZE, **common)
        return _with_fallback(segments, model, audio, common), info.language


class _Progress:
    """on_progress(done_s, total_s): done rises to the total; the total is the
    container's declared length until the last chunk gives the true one (or,
    with none declared, what is decoded so far)."""

    def __init__(self, on_progress: Callable[[float, float], None] | None, declared_s: float | None) -> None:
        self._call, self._declared_s = on_progress, declared_s or 0.0
        self._total_s = self._done_s = 0.0

    def chunk(self, chunk: Chunk) -> None:
        end_s = chunk.end_sample / SAMPLE_RATE_HZ
        self._total_s = end_s if chunk.last else max(self._declared_s, end_s)

    def report(self, done_s: float) -> None:
        self._done_s = min(max(self._done_s, done_s), self._total_s)
        if self._call:
            self._call(self._done_s, self._total_s)


def _with_fallback(segments: Iterable, model, audio, common: dict) -> Iterable:
    """Batched chunks are decoded once, at temperature 0: a chunk that comes
    out looping or unsure is decoded again on its own, sequentially, where
    faster-whisper retries at higher temperatures. Else the gate would drop
    up to 30 s of speech with it."""
    gate = GateOptions()
    for seg in segments:
        if seg.compression_ratio > gate.compression_ratio_threshold or seg.avg_logprob < gate.logprob_threshold:
            log.debug("re-decoding %.1f-%.1f s sequentially (ratio %.2f, logprob %.2f)", seg.start, seg.end,
                      seg.compression_ratio, seg.avg_logprob)
            yield from model.transcribe(audio, clip_timestamps=[seg.start, seg.end], **common)[0]
        else:
            yield seg


def _cues(seg) -> list[TimedSegment]:
    words = [TimedWord(w.start, w.end, w.word) for w in seg.words or ()]
    return cues_from_words(words) if words else [TimedSegment(seg.start, seg.end, seg.text.strip())]


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
