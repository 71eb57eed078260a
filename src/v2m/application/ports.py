"""Ports: what the application layer needs from the outside world."""

from __future__ import annotations

from typing import Any, Mapping, Protocol


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
