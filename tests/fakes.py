"""Fakes for unit tests of the domain and application layers."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from v2m.config import schema as config_schema


class FakeConfigStore:
    """In-memory ConfigStore that validates like the real one."""

    def __init__(self, user: Mapping[str, Any] | None = None) -> None:
        self.user = dict(user or {})
        self.writes = 0

    @property
    def path(self) -> str:
        return "/fake/config.toml"

    def load(self) -> dict[str, Any]:
        return config_schema.merge(config_schema.load_defaults(), self.user, self.path)

    def preview(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        merged_user = config_schema.merge(self.user, partial, self.path)
        return config_schema.merge(config_schema.load_defaults(), merged_user, self.path)

    def update(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        merged_user = config_schema.merge(self.user, partial, self.path)
        config = config_schema.merge(config_schema.load_defaults(), merged_user, self.path)
        self.user = merged_user
        self.writes += 1
        return copy.deepcopy(config)


class RecordingEvents:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class FakeTelemetry:
    def sample(self) -> dict[str, float]:
        return {"rss_mib": 1.0, "cpu_seconds": 0.0, "cpu_percent": 0.0, "threads": 1}


# -- dictation fakes ----------------------------------------------------------

import array
import threading

from v2m.domain.audio_math import FRAME_SAMPLES
from v2m.domain.errors import AudioDeviceError, ModelError, OutputError
from v2m.domain.hallucination import SegmentScore
from v2m.application.dictation_session import DictationOptions
from v2m.domain.transcript import DecodeRequest, HeardBefore


def tone_frame(value: int) -> bytes:
    """A frame whose every sample is `value`: the fakes read words from it."""
    return array.array("h", [value] * FRAME_SAMPLES).tobytes()


def script(*parts: tuple[int, int]) -> list[bytes]:
    """[(value, frames), ...] -> frames; value 0 is silence."""
    return [tone_frame(value) for value, count in parts for _ in range(count)]


class FakeVad:
    def is_speech(self, frame: bytes) -> bool:
        return frame[:2] != b"\x00\x00"


class FakeTranscriber:
    """Returns "w<value>" for each distinct non-zero sample value, in order."""

    model_name = "fake-model"

    def __init__(self, fail: bool = False, delay_s: float = 0.0) -> None:
        self.calls: list[tuple[int, str]] = []
        self.requests: list[DecodeRequest] = []
        self.fail = fail
        self.delay_s = delay_s

    @property
    def befores(self) -> list[HeardBefore | None]:
        return [r.before for r in self.requests]

    @property
    def quick_calls(self) -> int:
        return sum(r.window_s > 0 for r in self.requests)

    @property
    def waiting_calls(self) -> int:
        """Passes with the narrow beam the session uses once the user has stopped."""
        return sum(r.beam_size == DictationOptions.stop_beam_size for r in self.requests)

    def load(self) -> None:
        pass

    def transcribe(self, pcm: bytes, request: DecodeRequest = DecodeRequest()) -> list[SegmentScore]:
        self.requests.append(request)
        prompt = request.prompt
        if self.fail:
            raise ModelError("model exploded")
        if self.delay_s:
            threading.Event().wait(self.delay_s)
        self.calls.append((len(pcm), prompt))
        samples = array.array("h")
        samples.frombytes(pcm)
        words: list[str] = []
        for value in samples[::FRAME_SAMPLES]:
            if value and f"w{value}" not in words:
                words.append(f"w{value}")
        return [SegmentScore(" ".join(words), 0.01, -0.2, 1.1)] if words else []


class FakeSource:
    """Plays a frame script into the pipeline on its own thread."""

    device_name = "fake mic"

    def __init__(self, frames: list[bytes], fail_open: bool = False, fail_after: int | None = None) -> None:
        self.frames = frames
        self.fail_open = fail_open
        self.fail_after = fail_after
        self.done = threading.Event()
        self.stopped = False

    def start(self, on_frame, on_error) -> None:
        if self.fail_open:
            raise AudioDeviceError("no microphone named 'fake mic'")

        def play():
            for i, frame in enumerate(self.frames):
                if self.fail_after is not None and i == self.fail_after:
                    self.done.set()
                    on_error(AudioDeviceError("fake mic unplugged"))
                    return
                on_frame(frame)
            self.done.set()
        threading.Thread(target=play, daemon=True).start()

    def stop(self, drain: bool = True) -> None:
        if drain:
            self.done.wait(5)
        self.stopped = True
        self.drained = drain


class FakeSink:
    def __init__(self, name: str, fail: bool = False, history=None) -> None:
        self.name = name
        self.fail = fail
        self.received: list[str] = []
        self.history_len_at_delivery: list[int] = []
        self._history = history

    def deliver(self, text: str) -> None:
        if self._history is not None:
            self.history_len_at_delivery.append(len(self._history.records))
        if self.fail:
            raise OutputError(f"{self.name} is broken")
        self.received.append(text)


class FakeNotifier:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def notify(self, title: str, body: str, *, replace: bool = True) -> None:
        self.shown.append((title, body))


class FakeHistory:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def append(self, record: dict) -> None:
        self.records.append(record)

    def recent(self, limit: int) -> list[dict]:
        return self.records[-limit:]


class FakeSpool:
    def __init__(self, leftovers: list[tuple[str, bytes]] | None = None) -> None:
        self.frames: list[bytes] = []
        self.discarded = 0
        self._leftovers = dict(leftovers or [])

    def begin(self) -> None:
        self.frames = []

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)

    def discard(self) -> None:
        self.discarded += 1

    def leftovers(self) -> list[tuple[str, bytes]]:
        return list(self._leftovers.items())

    def remove(self, spool_id: str) -> None:
        del self._leftovers[spool_id]


# -- LLM fakes ----------------------------------------------------------------

from typing import Callable

from v2m.domain.errors import LlmError


class FakeChatModel:
    """A ChatModel answering `reply(user)` (or the string `reply`), or raising LlmError.

    Records (system, user) of every call in `calls`. The default reply
    capitalises the text and adds a full stop, like a light refinement.
    """

    name = "fake-llm at http://fake/v1"

    def __init__(self, reply: Callable[[str], str] | str | None = None, error: str | None = None) -> None:
        self.reply = reply if reply is not None else (lambda text: text[:1].upper() + text[1:].rstrip(".") + ".")
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def complete(self, system: str, user: str) -> str:
        self.calls.append((system, user))
        if self.error is not None:
            raise LlmError(self.error, "fake hint")
        return self.reply(user) if callable(self.reply) else self.reply


class MicrophoneLedger:
    """Counts open microphones across sources, for the privacy invariant:
    open exactly when the daemon's state is RECORDING."""

    def __init__(self) -> None:
        self.open = 0
        self._lock = threading.Lock()

    def source(self, on_start=None) -> "LedgerSource":
        return LedgerSource(self, on_start)


class LedgerSource:
    device_name = "ledger mic"

    def __init__(self, ledger: MicrophoneLedger, on_start=None) -> None:
        self._ledger, self._on_start = ledger, on_start
        self._is_open = False

    def start(self, on_frame, on_error) -> None:
        if self._on_start is not None:
            self._on_start()
        with self._ledger._lock:
            self._ledger.open += 1
        self._is_open = True

    def stop(self, drain: bool = True) -> None:
        if self._is_open:
            self._is_open = False
            with self._ledger._lock:
                self._ledger.open -= 1


class GatedFileTranscriber:
    """A FileTranscriber that waits for `release` before answering."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def transcribe_file(self, path, on_progress=None, prompt=""):
        from v2m.domain.transcript import FileTranscript

        self.started.set()
        self.release.wait(10)
        return FileTranscript(path, 0.0, "en", ())
