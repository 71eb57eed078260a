"""AudioSource that plays a WAV file as the microphone: `audio.device =
"file:/path/to.wav"`. For dictating a recording, and for tests and
benchmarks that need many dictations fast: frames are delivered as fast as
the pipeline takes them, then the source falls silent until stopped."""

from __future__ import annotations

import threading
import wave
from typing import Callable

from v2m.domain.audio_math import FRAME_BYTES, SAMPLE_RATE_HZ
from v2m.domain.errors import AudioDeviceError


class WavFileSource:
    def __init__(self, path: str) -> None:
        self.path = path
        self.device_name = f"file {path}"
        self._thread: threading.Thread | None = None

    def start(self, on_frame: Callable[[bytes], None], on_error: Callable[[Exception], None]) -> None:
        try:
            with wave.open(self.path) as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise AudioDeviceError(f"{self.path}: need mono 16-bit PCM")
                rate, pcm = w.getframerate(), w.readframes(w.getnframes())
        except (OSError, wave.Error) as exc:
            raise AudioDeviceError(f"cannot read {self.path}: {exc}", "fix audio.device") from None
        if rate != SAMPLE_RATE_HZ:
            from v2m.infrastructure.audio.resample import to_16k

            pcm = to_16k(pcm, rate)

        def play() -> None:
            for offset in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
                on_frame(pcm[offset:offset + FRAME_BYTES])
        self._thread = threading.Thread(target=play, name="v2m-file-capture", daemon=True)
        self._thread.start()

    def stop(self, drain: bool = True) -> None:
        if self._thread is not None:
            self._thread.join()
