"""Transcriber over faster-whisper / CTranslate2, one model kept warm."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from v2m.domain.errors import ModelError
from v2m.domain.hallucination import SegmentScore

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WhisperOptions:
    device: str = "auto"          # auto | cpu | cuda
    compute_type: str = "auto"    # auto: int8 on CPU, float16 on CUDA
    language: str = "en"          # ISO code, or "auto" to detect
    task: str = "transcribe"      # or "translate" (to English)
    beam_size: int = 5
    cpu_threads: int = 0


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

    def load(self) -> None:
        from faster_whisper import WhisperModel

        options = self._get_options()
        device, auto_compute = pick_device(options.device)
        compute = auto_compute if options.compute_type == "auto" else options.compute_type
        started = time.monotonic()
        try:
            self._model = WhisperModel(str(self.path), device=device, compute_type=compute,
                                       cpu_threads=options.cpu_threads)
        except Exception as exc:
            self._load_error = f"cannot load model {self._name} from {self.path}: {exc}"
            raise ModelError(self._load_error, "run `v2m models pull` again, or pick another model") from exc
        finally:
            self._loaded.set()
        self.device = f"{device}/{compute}"
        log.info("loaded %s on %s in %.2fs", self._name, self.device, time.monotonic() - started)

    def transcribe(self, pcm: bytes, prompt: str) -> list[SegmentScore]:
        import numpy as np

        self._loaded.wait()
        if self._model is None:
            raise ModelError(self._load_error or f"model {self._name} is not loaded")
        options = self._get_options()
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        language = None if options.language == "auto" else options.language
        segments, _info = self._model.transcribe(
            audio, language=language, task=options.task, beam_size=options.beam_size,
            initial_prompt=prompt or None, condition_on_previous_text=False,
            without_timestamps=True, vad_filter=False)
        return [SegmentScore(s.text, s.no_speech_prob, s.avg_logprob, s.compression_ratio)
                for s in segments]
