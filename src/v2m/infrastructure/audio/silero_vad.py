"""VoiceDetector over Silero VAD, the ONNX model faster-whisper ships
(faster_whisper/assets/silero_vad_v6.onnx), run with onnxruntime.

The model reads 512-sample windows (32 ms at 16 kHz) with the 64 samples
before each as context, and carries an LSTM state (h, c) from window to
window. Capture delivers 30 ms frames (480 samples), so samples are buffered
and every complete window is run as it fills: a frame runs one window, or
none (one frame in 16). Each frame's decision is the state after the last
window, with Silero's hysteresis: speech starts at `threshold`, and ends only
once the probability falls below `neg_threshold` (threshold - 0.15, as in
faster_whisper.vad.get_speech_timestamps).

`level_gate_db` (off by default): Silero hears quiet background talk as
speech, as it should hear soft speech. With the gate, a frame is speech only
if it is also within `level_gate_db` of the loudest speech heard so far in
the dictation (a peak that decays by `gate_decay_db_per_s`). It rejects
background talk well below the user's voice (babble at 20 dB SNR), not
talk near it, and it would miss speech that drops further than the gate.

One detector per dictation (the state is the stream's); the ONNX session is
loaded once per process and shared (onnxruntime's run is thread-safe).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os

import numpy as np

from v2m.domain.audio_math import FRAME_MS
from v2m.domain.errors import ModelError

WINDOW_SAMPLES = 512
CONTEXT_SAMPLES = 64
MODEL_FILE = "silero_vad_v6.onnx"


def model_path() -> str:
    """The model inside the installed faster_whisper, found without importing
    it (importing it loads CTranslate2)."""
    spec = importlib.util.find_spec("faster_whisper")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "assets", MODEL_FILE)
        if os.path.exists(path):
            return path
    from faster_whisper.utils import get_assets_path

    return os.path.join(get_assets_path(), MODEL_FILE)


@functools.cache
def load_session(path: str = ""):
    """The shared onnxruntime session; one thread, as faster-whisper runs it.
    Raises ModelError when onnxruntime or the model file is missing."""
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 4
        return onnxruntime.InferenceSession(path or model_path(), providers=["CPUExecutionProvider"],
                                            sess_options=options)
    except Exception as e:  # ImportError, a missing file, onnxruntime's own errors
        raise ModelError(f"cannot load the Silero VAD model ({e})",
                         'reinstall v2m, or set audio.vad = "webrtc"') from e


class SileroVoiceDetector:
    def __init__(self, threshold: float = 0.5, neg_threshold: float | None = None,
                 level_gate_db: float | None = None, gate_decay_db_per_s: float = 1.0,
                 model: str = "") -> None:
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01) if neg_threshold is None else neg_threshold
        self.level_gate_db = level_gate_db
        self._decay_db = gate_decay_db_per_s * FRAME_MS / 1000   # per frame
        self._peak_db = -math.inf
        self._session = load_session(model)
        self._state = np.zeros((2, 1, 1, 128), dtype=np.float32)   # h, c
        self._window = np.zeros(CONTEXT_SAMPLES + WINDOW_SAMPLES, dtype=np.float32)
        self._filled = 0           # samples of the current window buffered
        self._speaking = False
        self.probability = 0.0     # of the last window run

    def is_speech(self, frame: bytes) -> bool:
        frame = frame[: len(frame) // 2 * 2]
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        while samples.size:
            take = min(WINDOW_SAMPLES - self._filled, samples.size)
            at = CONTEXT_SAMPLES + self._filled
            self._window[at: at + take] = samples[:take]
            self._filled += take
            samples = samples[take:]
            if self._filled == WINDOW_SAMPLES:
                self._run_window()
        if self.level_gate_db is None:
            return self._speaking
        return self._gate(frame)

    def _gate(self, frame: bytes) -> bool:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64) / 32768.0
        level = 10 * math.log10(float(np.mean(x * x)) + 1e-12) if x.size else -120.0
        speech = self._speaking and level > self._peak_db - self.level_gate_db
        self._peak_db = max(level, self._peak_db - self._decay_db) if speech else self._peak_db - self._decay_db
        return speech

    def _run_window(self) -> None:
        probs, h, c = self._session.run(None, {"input": self._window[None, :],
                                               "h": self._state[0], "c": self._state[1]})
        self._state[0], self._state[1] = h, c
        self._window[:CONTEXT_SAMPLES] = self._window[-CONTEXT_SAMPLES:]
        self._filled = 0
        self.probability = float(probs.reshape(-1)[0])
        if self.probability >= self.threshold:
            self._speaking = True
        elif self.probability < self.neg_threshold:
            self._speaking = False
