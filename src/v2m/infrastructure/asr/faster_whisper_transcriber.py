"""Transcriber over faster-whisper / CTranslate2, one model kept warm."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from v2m.domain.audio_math import SAMPLE_RATE_HZ
from v2m.domain.errors import ModelError
from v2m.domain.hallucination import GateOptions, SegmentScore
from v2m.domain.transcript import DecodeRequest, fits_window
from v2m.infrastructure.asr.decoder_threads import split_decoder
from v2m.infrastructure.asr.language_detect import likely_languages

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WhisperOptions:
    device: str = "auto"          # auto | cpu | cuda
    compute_type: str = "auto"    # auto: int8 on CPU, float16 on CUDA
    language: str = "en"          # ISO code, or "auto" to detect
    task: str = "transcribe"      # or "translate" (to English)
    beam_size: int = 5            # for files; a dictation's passes carry their own
    cpu_threads: int = 0
    # On the CPU, the decoder on a one-thread copy of a small model
    # (decoder_threads.py); False: one model on cpu_threads (benchmarks).
    split_decoder: bool = True


# Output this repetitive is a decoder loop, not speech (Whisper's own bar).
MAX_COMPRESSION_RATIO = GateOptions.compression_ratio_threshold


def _ignore(language: str, probability: float) -> None:
    """What a pass tells when nobody asked which language it was read in."""


def pick_device(requested: str) -> tuple[str, str]:
    """Resolve "auto" device and compute type against what CTranslate2 sees."""
    import ctranslate2

    device = requested
    if requested == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    return device, ("float16" if device == "cuda" else "int8")


class FasterWhisperTranscriber:
    """`options` may be a callable: decoding settings (language, task, beam)
    are then read at each pass, so changing them needs no model reload."""

    def __init__(self, model_name: str, model_path: Path,
                 options: WhisperOptions | Callable[[], WhisperOptions]) -> None:
        self._name = model_name
        self.path = model_path
        self._get_options = options if callable(options) else (lambda: options)
        self._model = None
        self._load_error: str | None = None
        self._loaded = threading.Event()
        self.device = ""

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def options(self) -> WhisperOptions:
        return self._get_options()

    def whisper_model(self):
        """The loaded faster_whisper.WhisperModel (waits for the load); raises ModelError."""
        self._loaded.wait()
        if self._model is None:
            raise ModelError(self._load_error or f"model {self._name} is not loaded")
        return self._model

    def load(self) -> None:
        from faster_whisper import WhisperModel

        options = self._get_options()
        device, auto_compute = pick_device(options.device)
        compute = auto_compute if options.compute_type == "auto" else options.compute_type
        started = time.monotonic()
        try:
            model = WhisperModel(str(self.path), device=device, compute_type=compute,
                                 cpu_threads=options.cpu_threads)
        except Exception as exc:
            self._load_error = f"cannot load model {self._name} from {self.path}: {exc}"
            raise ModelError(self._load_error, "run `v2m models pull` again, or pick another model") from exc
        else:
            try:
                split = options.split_decoder and split_decoder(model, self.path, device, compute,
                                                                options.cpu_threads)
            except Exception as exc:  # the model as loaded still reads, only slower
                log.warning("the decoder's one-thread copy failed to load: %s", exc)
                split = False
            self._model = model
        finally:
            self._loaded.set()
        self.device = f"{device}/{compute}"
        loaded = time.monotonic()
        # One dummy pass: CTranslate2 allocates its buffers and the OS pages in
        # the weights now, not during the user's first dictation.
        self._warm_up()
        log.info("loaded %s on %s%s in %.2fs, warmed up in %.2fs", self._name, self.device,
                 " (decoder on one thread)" if split else "", loaded - started, time.monotonic() - loaded)

    def _warm_up(self) -> None:
        import numpy as np

        segments, _ = self._model.transcribe(np.zeros(SAMPLE_RATE_HZ, dtype=np.float32), language="en"
                                             if self._name.endswith(".en") else None, beam_size=1,
                                             without_timestamps=True, vad_filter=False)
        list(segments)

    def transcribe(self, pcm: bytes, request: DecodeRequest = DecodeRequest()) -> list[SegmentScore] | None:
        model = self.whisper_model()
        options = self._get_options()
        if request.language is not None:
            options = dataclasses.replace(options, language=request.language)
        heard = request.on_language or _ignore
        audio = _floats(pcm)
        if request.before is not None:
            context = request.before
            if not fits_window((len(audio) + len(context.pcm) // 2) / SAMPLE_RATE_HZ, request.window_s):
                return None
            return quick_pass(model, _floats(context.pcm + pcm), request.prompt, options, request.beam_size,
                              request.window_s, prefix=context.text, new_s=len(audio) / SAMPLE_RATE_HZ,
                              heard=heard, runner_up=request.runner_up, prefer=request.prefer)
        if fits_window(len(audio) / SAMPLE_RATE_HZ, request.window_s):
            told: list[str] = []

            def tell(language: str, probability: float) -> None:
                told.append(language)
                heard(language, probability)
            result = quick_pass(model, audio, request.prompt, options, request.beam_size, request.window_s,
                                heard=tell, runner_up=request.runner_up, prefer=request.prefer)
            if result is not None:
                return result
            # Degenerate output: the full 30 s window, in the language the
            # quick pass found (detected once, and already told).
            options, heard = dataclasses.replace(options, language=told[0]), _ignore
        return self._full_pass(audio, request.prompt, options, request.beam_size, heard, request.timestamps)

    def _full_pass(self, audio, prompt: str, options: WhisperOptions, beam_size: int,
                   heard: Callable[[str, float], None] = _ignore, timestamps: bool = False) -> list[SegmentScore]:
        language = None if options.language == "auto" else options.language
        segments, info = self._model.transcribe(
            audio, language=language, task=options.task, beam_size=beam_size,
            initial_prompt=prompt or None, condition_on_previous_text=False,
            without_timestamps=not timestamps, vad_filter=False)
        heard(info.language, 1.0 if language else float(info.language_probability))
        return [SegmentScore(s.text, s.no_speech_prob, s.avg_logprob, s.compression_ratio)
                for s in segments]


def _floats(pcm: bytes):
    import numpy as np

    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def quick_pass(model, audio, prompt: str, options: WhisperOptions, beam_size: int = 1, window_s: int = 10,
               prefix: str = "", new_s: float | None = None,
               heard: Callable[[str, float], None] = _ignore, runner_up: bool = True,
               prefer: str = "") -> list[SegmentScore] | None:
    """No timestamps, temperature 0, and the encoder fed a short window.

    faster-whisper always pads the mel input to 30 s (3000 frames); CTranslate2
    (3.19+) accepts fewer, and the encoder's cost falls with the window. About
    10 s is the shortest window the stock weights handle without losing
    accuracy. Returns None when the output looks degenerate (repetition, too
    long), so the caller re-runs the full window.

    The beam is the caller's (the dictation session picks it; the measured
    trade-offs are in BENCHMARKS.md, "Stop-to-text").

    `prefix`: the text of the audio's start, already transcribed; it is forced
    as the decoder's first tokens, and only what follows (`new_s` seconds of
    audio) is returned.

    Language "auto" on a multilingual model: the window is encoded once, the
    language detected on the encoder's output (one decoder step, ~43 ms; see
    language_detect.py) and the text decoded from that same output; when
    the detection is unsure between two (and `runner_up`), both are decoded
    and the likelier text kept (unless one of the two is `prefer`, the user's
    recent language: see likely_languages). `heard(language, probability)` is told the language read in
    (probability 1.0 when it was given, or the model is English-only).
    """
    import ctranslate2
    import numpy as np
    from faster_whisper.audio import pad_or_trim

    language = options.language
    if language == "auto" and not model.model.is_multilingual:
        language = "en"
    mel = model.feature_extractor(audio)
    frames = window_s * 100  # mel frames of 10 ms
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(pad_or_trim(mel, frames)[None]))
    # Encoded here, not in generate(): the decoder may be a one-thread copy
    # of the model (decoder_threads.py), which takes the output as it is.
    features = model.model.encode(features, to_cpu=False)
    candidates = [(language, 1.0)]
    if language == "auto":
        candidates = likely_languages(model, features, prefer)[:2 if runner_up else 1]
    seconds = len(audio) / SAMPLE_RATE_HZ if new_s is None else new_s
    languages = [code for code, _ in candidates]
    readings = zip(_decode(model, features, languages, options.task, prompt, prefix, beam_size, seconds), candidates)
    # A reading beats a degenerate one (None), text beats none, then the likelier text wins.
    (segments, _score), (code, probability) = max(
        readings, key=lambda r: (r[0][0] is not None, bool(r[0][0]), r[0][1]))
    heard(code, probability)
    return segments


def _decode(model, features, languages: list[str], task: str, prompt: str, prefix: str, beam_size: int,
            seconds: float) -> list[tuple[list[SegmentScore] | None, float]]:
    """quick_pass's decoding, one reading per language: its segments (None
    when degenerate) and the average log-probability of the text. Two
    languages (an unsure detection and its runner-up) are decoded as one
    batch on the same encoder output: 305 ms against 476 ms for two calls
    (base, 2 cores, a 3.6 s utterance; the texts and scores are the same)."""
    import ctranslate2
    import numpy as np
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    tokenizers = [Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task=task, language=language)
                  for language in languages]
    first = tokenizers[0]  # the languages share every token but the language's own
    context = [first.sot_prev] + first.encode(" " + prompt.strip())[-(model.max_length // 2 - 1):] \
        if prompt.strip() else []
    forced = first.encode(" " + prefix.strip())[:model.max_length // 2 - 1] if prefix.strip() else []
    starts = [context + [*t.sot_sequence, t.no_timestamps] + forced for t in tokenizers]
    if len(starts) > 1:  # one encoder output per sequence of the batch (a CUDA one copied to the host)
        host = features if features.device == "cpu" else features.to_device(ctranslate2.Device.cpu)
        features = ctranslate2.StorageView.from_array(np.repeat(np.asarray(host), len(starts), axis=0))
    max_new = int(seconds * 12) + 16  # speech runs at 2-4 tokens a second
    # CTranslate2's Whisper generate() returns at most min(max_length / 2,
    # max_length - the tokens before the prefix) tokens, the forced prefix
    # among them (whisper.cc keeps OpenAI's half-context cap). Asked for
    # max_new alone, 16 s of context left 8 tokens for a 3.5 s sentence and
    # its text stopped mid-sentence, as if complete ("cold and"). So ask for
    # what returns the prefix and max_new more, within the decoder's positions.
    lead = len(starts[0]) - len(forced)
    budget = min(len(forced) + max_new, model.max_length - lead)
    results = model.model.generate(
        features, starts, beam_size=beam_size, max_length=max(2 * budget, budget + lead),
        return_scores=True,
        return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(first, [-1]))
    readings: list[tuple[list[SegmentScore] | None, float]] = []
    for result in results:
        ids = [t for t in result.sequences_ids[0][len(forced):] if t < first.eot]
        text = first.decode(ids)
        avg_logprob = result.scores[0] * len(ids) / (len(ids) + 1)
        ratio = get_compression_ratio(text) if text.strip() else 1.0
        if len(ids) >= budget - len(forced) - 1 or ratio > MAX_COMPRESSION_RATIO or _repeats(text):  # ran out
            readings.append((None, avg_logprob))
        else:
            readings.append(([SegmentScore(text, result.no_speech_prob, avg_logprob, ratio)]
                             if text.strip() else [], avg_logprob))
    return readings


def _repeats(text: str, n: int = 3, times: int = 3) -> bool:
    """A word n-gram repeated `times` times in a row: the decoder is looping."""
    words = text.lower().split()
    for size in range(1, n + 1):
        for start in range(0, len(words) - size * times + 1):
            gram = words[start:start + size]
            if all(words[start + k * size:start + (k + 1) * size] == gram for k in range(times)):
                return True
    return False
