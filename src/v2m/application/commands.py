"""The requests the daemon serves, as typed commands.

The socket edge (ipc/edge.py) builds them from request data, old clients'
field names included; the services take them and never parse a dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class Ping:
    pass


@dataclasses.dataclass(frozen=True)
class GetStatus:
    pass


@dataclasses.dataclass(frozen=True)
class Shutdown:
    pass


@dataclasses.dataclass(frozen=True)
class PauseDaemon:
    pass


@dataclasses.dataclass(frozen=True)
class ResumeDaemon:
    pass


@dataclasses.dataclass(frozen=True)
class GetConfig:
    pass


@dataclasses.dataclass(frozen=True)
class UpdateConfig:
    updates: Mapping[str, Any]
    keys: tuple[str, ...] = ()  # the dotted keys it sets, for the config_changed event


@dataclasses.dataclass(frozen=True)
class StartRecording:
    language: str | None = None  # this dictation only; None: the configured one


@dataclasses.dataclass(frozen=True)
class ToggleRecording:
    language: str | None = None


@dataclasses.dataclass(frozen=True)
class StopRecording:
    pass


@dataclasses.dataclass(frozen=True)
class CancelRecording:
    pass


@dataclasses.dataclass(frozen=True)
class PasteLast:
    typed: bool = False  # type it instead of the configured sinks' paste/clipboard path


@dataclasses.dataclass(frozen=True)
class TranscribeFile:
    path: str  # absolute: the edge resolves a client's relative path against its cwd


@dataclasses.dataclass(frozen=True)
class ProcessText:
    text: str


@dataclasses.dataclass(frozen=True)
class TranslateText:
    text: str
    target: str


Command = (Ping | GetStatus | Shutdown | PauseDaemon | ResumeDaemon | GetConfig | UpdateConfig | StartRecording
           | ToggleRecording | StopRecording | CancelRecording | PasteLast | TranscribeFile | ProcessText
           | TranslateText)
