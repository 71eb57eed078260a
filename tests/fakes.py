"""Fakes for unit tests of the domain and application layers."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from v2m.core import config_schema


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
