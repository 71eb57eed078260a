"""Ports: what the application layer needs from the outside world."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from v2m.application.model_types import InstalledModel, RemoteFile, RemoteModel  # noqa: F401
from v2m.domain.hallucination import SegmentScore
from v2m.domain.transcript import FileTranscript
from v2m.domain.transcript import DecodeRequest


class ConfigStore(Protocol):
    """The effective configuration and the user's config file behind it."""

    @property
    def path(self) -> str: ...

    def load(self) -> dict[str, Any]:
        """Defaults + user file + environment, validated. Raises ConfigError."""

    def update(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        """Validate `partial`, write it to the user's file, return the new config.

        On a ConfigError nothing is written.
        """

    def preview(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        """The config `update(partial)` would give, without writing anything."""


class EventSink(Protocol):
    def publish(self, event: dict[str, Any]) -> None: ...


class Telemetry(Protocol):
    def sample(self) -> dict[str, float]:
        """Process figures such as RSS and CPU use."""


class AudioSource(Protocol):
    """A microphone delivering 16 kHz mono s16le in 30 ms frames (960 bytes)."""

    @property
    def device_name(self) -> str: ...

    def start(self, on_frame: Callable[[bytes], None], on_error: Callable[[Exception], None]) -> None:
        """Open the device and call `on_frame` from a capture thread.

        Raises AudioDeviceError if the device cannot be opened.
        """

    def stop(self, drain: bool = True) -> None:
        """Close the device; with `drain`, first deliver the audio still in flight."""


class VoiceDetector(Protocol):
    def is_speech(self, frame: bytes) -> bool: ...


class Transcriber(Protocol):
    @property
    def model_name(self) -> str: ...

    def load(self) -> None:
        """Load the model (slow); raises ModelError."""

    def transcribe(self, pcm: bytes, request: DecodeRequest) -> list[SegmentScore] | None:
        """Transcribe 16 kHz mono s16le audio as `request` says (its prompt,
        beam, encoder window and context). None only when a reading with
        `request.before` could not be made: ask again without it."""


class TextSink(Protocol):
    @property
    def name(self) -> str: ...

    def deliver(self, text: str) -> str | None:
        """Put the text where the user wants it; raises OutputError. Returns a
        note when the text landed, but not as asked (e.g. on the clipboard
        because the compositor refuses virtual keyboards)."""


class Notifier(Protocol):
    def notify(self, title: str, body: str, *, replace: bool = True) -> None:
        """Show a desktop notification, replacing v2m's previous one."""


class HistoryStore(Protocol):
    def append(self, record: dict[str, Any]) -> None:
        """Durably save one finished dictation."""

    def recent(self, limit: int) -> list[dict[str, Any]]: ...


class AudioSpool(Protocol):
    """Raw audio of the dictation in progress, on disk, for crash recovery."""

    def begin(self) -> None: ...

    def write(self, frame: bytes) -> None: ...

    def discard(self) -> None:
        """The dictation is safe in the history (or cancelled): drop the audio."""

    def leftovers(self) -> list[tuple[str, bytes]]:
        """(id, audio) of recordings a crashed daemon left behind."""

    def remove(self, spool_id: str) -> None: ...


class ModelHub(Protocol):
    """Where Whisper weights come from (the Hugging Face hub or a mirror)."""

    def resolve(self, repo_id: str, revision: str) -> RemoteModel:
        """The commit a revision points to, and its files with sizes and hashes."""

    def download(self, repo_id: str, commit: str, filename: str, dest_dir: str, size: int) -> str:
        """Fetch one file into dest_dir, resuming a partial one; return its path."""


class ModelRepository(Protocol):
    """Installed models on disk."""

    def installed(self) -> list[InstalledModel]: ...

    def get(self, name: str) -> InstalledModel | None: ...

    def staging_dir(self, name: str, commit: str, total_bytes: int) -> str:
        """A private directory to download into; raises ModelError if the disk is too full."""

    def verify(self, path: str, expected: RemoteFile) -> None:
        """Raise ModelError if the file's size or hash differs from the hub's."""

    def install(self, name: str, staging: str, manifest: dict[str, Any], *, replace: bool) -> str:
        """Atomically make the staged model visible as `name`; return its path."""

    def install_copy(self, name: str, source: str, manifest: dict[str, Any], *, replace: bool) -> str:
        """Copy a local model directory in, atomically."""

    def remove(self, name: str) -> None: ...


class ModelValidator(Protocol):
    def check_loads(self, path: str) -> None:
        """Raise ModelError unless CTranslate2 can load the model at `path`."""


class FileTranscriber(Protocol):
    def transcribe_file(self, path: str, on_progress: Callable[[float, float], None] | None = None,
                        prompt: str = "") -> FileTranscript:
        """Decode an audio or video file (PyAV) and transcribe it with timestamps.

        `on_progress(done_s, total_s)` is called as segments come out. Raises
        MediaError for a missing, unreadable or non-audio file, ModelError if
        the model is not loaded.
        """


class ChatModel(Protocol):
    """An LLM behind an OpenAI-compatible chat-completions endpoint."""

    @property
    def name(self) -> str:
        """The model and endpoint, for messages (never the API key)."""

    def complete(self, system: str, user: str) -> str:
        """One chat completion; raises LlmError on timeout, HTTP error or empty output."""
