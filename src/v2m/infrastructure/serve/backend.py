"""The server's transcribe callable over the daemon's local model.

It is the daemon's WhisperFileTranscriber (PyAV decoding from one checked
descriptor, chunks, the hallucination gate, the batched pipeline for long
files), asked per request for the task and language, and kept listening
to what Whisper said under each cue: the words with their times (for
timestamp_granularities[]=word) and each segment's scores (verbose_json).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable

from v2m.infrastructure.asr.faster_whisper_transcriber import WhisperOptions
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber
from v2m.infrastructure.audio.media_files import SAMPLE_RATE_HZ


def local_transcribe(model: Callable[[], object], options: Callable[[], WhisperOptions],
                     prompt: Callable[[], str] = str) -> Callable[..., dict[str, Any]]:
    """transcribe(path, SpeechRequest, check) -> result dict, on the model `model()` returns.

    `check()` is called as segments come out (it raises to stop the request).
    """
    def transcribe(path: str, request: Any, check: Callable[[], None] = lambda: None) -> dict[str, Any]:
        base = options()
        language = request.language or base.language
        chosen = dataclasses.replace(base, task=request.task, language=language)
        files = _Listening(model, lambda: chosen)
        prompt_text = " ".join(p for p in (prompt(), request.prompt.strip()) if p)
        result = files.transcribe_file(path, lambda done, total: check() if done < total else None, prompt_text)
        return files.result(result)
    return transcribe


class _Listening(WhisperFileTranscriber):
    """Made per request: it keeps that request's Whisper segments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heard: list[tuple[float, Any]] = []
        self._offset_s = 0.0

    def _chunk_cues(self, model, chunk, *args: Any):  # type: ignore[no-untyped-def]
        self._offset_s = chunk.start_sample / SAMPLE_RATE_HZ
        return super()._chunk_cues(model, chunk, *args)

    def _run(self, model, audio, *args: Any):  # type: ignore[no-untyped-def]
        segments, detected = super()._run(model, audio, *args)
        return self._keep(segments, self._offset_s), detected

    def _keep(self, segments: Iterable, offset_s: float) -> Iterable:
        for seg in segments:
            self.heard.append((offset_s, seg))
            yield seg

    def result(self, transcript) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        cues = transcript.segments
        kept = [(o, s) for o, s in self.heard
                if any(c.start_s < o + s.end and o + s.start < c.end_s for c in cues)]
        words = [{"word": w.word, "start": o + w.start, "end": o + w.end}
                 for o, s in kept for w in (s.words or ()) if w.word.strip()]
        segments = []
        for cue in cues:
            mid = (cue.start_s + cue.end_s) / 2
            source = next((s for o, s in kept if o + s.start <= mid <= o + s.end), None)
            scores = {} if source is None else {
                "avg_logprob": source.avg_logprob, "no_speech_prob": source.no_speech_prob,
                "compression_ratio": source.compression_ratio, "temperature": source.temperature or 0.0,
                "tokens": list(source.tokens or [])}
            segments.append({"start": cue.start_s, "end": cue.end_s, "text": cue.text, **scores})
        return {"text": transcript.text, "language": transcript.language, "duration": transcript.duration_s,
                "segments": segments, "words": words}
