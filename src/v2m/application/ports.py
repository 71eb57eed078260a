"""Ports: what the application layer needs from the outside world."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from v2m.domain.hallucination import SegmentScore


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

    def stop(self) -> None:
        """Deliver what is still buffered, then close the device."""


class VoiceDetector(Protocol):
    def is_speech(self, frame: bytes) -> bool: ...


class Transcriber(Protocol):
    @property
    def model_name(self) -> str: ...

    def load(self) -> None:
        """Load the model (slow); raises ModelError."""

    def transcribe(self, pcm: bytes, prompt: str) -> list[SegmentScore]:
        """Transcribe 16 kHz mono s16le audio; `prompt` is the preceding text."""


class TextSink(Protocol):
    @property
    def name(self) -> str: ...

    def deliver(self, text: str) -> None:
        """Put the text where the user wants it; raises OutputError."""


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
