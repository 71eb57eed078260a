"""Typed settings: the validated config, parsed once into frozen dataclasses.

The daemon rebuilds them on every accepted update and hands them to the
services, so no raw dict travels past the composition root. Each dataclass
reads one section of config.toml, field by field; a test checks that every
key of config.toml lands in exactly one field.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar


@dataclasses.dataclass(frozen=True)
class ModelLoadOptions:
    """[transcription] keys that need a new model load when they change."""

    model: str = "tiny.en"
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0


@dataclasses.dataclass(frozen=True)
class DecodeOptions:
    """[transcription] keys read at each pass."""

    language: str = "en"
    task: str = "transcribe"
    beam_size: int = 5
    streaming: bool = True
    fast_stop: bool = True
    engine: str = "local"  # local | openai


@dataclasses.dataclass(frozen=True)
class RemoteEngineOptions:
    """[transcription.remote]: read at each pass or file (keep_local_warm, cooldown_s at start)."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "whisper-1"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 10.0
    file_timeout_s: float = 300.0
    cooldown_s: float = 30.0
    upload_format: str = "flac"
    keep_local_warm: bool = False


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """[server]: `v2m serve`, read when the daemon starts."""

    listen: str = ""
    auth: bool = True
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_upload_mb: float = 25.0
    max_queue: int = 4
    queue_timeout_s: float = 60.0


@dataclasses.dataclass(frozen=True)
class AudioOptions:
    device: str = ""
    vad: str = "auto"  # auto | silero | webrtc
    vad_aggressiveness: int = 2
    min_silence_ms: int = 600
    preroll_ms: int = 300
    max_utterance_s: int = 25
    min_hold_ms: int = 300  # hold-to-talk: a shorter start/stop pair is a tap, cancelled


@dataclasses.dataclass(frozen=True)
class OutputOptions:
    sinks: tuple[str, ...] = ("clipboard",)
    notify: bool = True
    separator: str = " "
    live: bool = False
    typing_delay_ms: int = 0
    paste_keys: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FeedbackOptions:
    sounds: bool = False


@dataclasses.dataclass(frozen=True)
class TextOptions:
    replacements: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()
    spoken_punctuation: bool = False


@dataclasses.dataclass(frozen=True)
class LlmOptions:
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = "llama3.2"
    api_key_env: str = ""
    timeout_s: float = 15.0
    retries: int = 1
    refine: bool = False


@dataclasses.dataclass(frozen=True)
class LogOptions:
    level: str = "info"


# Which config section each part reads.
SECTIONS: dict[str, tuple[str, type]] = {
    "model": ("transcription", ModelLoadOptions),
    "decode": ("transcription", DecodeOptions),
    "remote": ("transcription.remote", RemoteEngineOptions),
    "audio": ("audio", AudioOptions),
    "output": ("output", OutputOptions),
    "feedback": ("feedback", FeedbackOptions),
    "text": ("text", TextOptions),
    "llm": ("llm", LlmOptions),
    "server": ("server", ServerOptions),
    "log": ("log", LogOptions),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    model: ModelLoadOptions = ModelLoadOptions()
    decode: DecodeOptions = DecodeOptions()
    remote: RemoteEngineOptions = RemoteEngineOptions()
    audio: AudioOptions = AudioOptions()
    output: OutputOptions = OutputOptions()
    feedback: FeedbackOptions = FeedbackOptions()
    text: TextOptions = TextOptions()
    llm: LlmOptions = LlmOptions()
    server: ServerOptions = ServerOptions()
    log: LogOptions = LogOptions()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        """From a config already validated by config.schema."""
        return cls(**{part: _read(kind, _section(config, section)) for part, (section, kind) in SECTIONS.items()})


T = TypeVar("T")


def _section(config: Mapping[str, Any], dotted: str) -> Mapping[str, Any]:
    """config["transcription"]["remote"] for "transcription.remote"."""
    for part in dotted.split("."):
        config = config[part]
    return config


def _read(kind: type[T], section: Mapping[str, Any]) -> T:
    values = {}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        value = section[field.name]
        values[field.name] = tuple(value) if isinstance(value, list) else value
    return kind(**values)


def needs_model_load(old: Settings, new: Settings) -> bool:
    return old.model != new.model
