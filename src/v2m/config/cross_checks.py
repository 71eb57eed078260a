"""Checks across keys: combinations that are each valid alone but not
together. Each message names every key involved."""

from __future__ import annotations

from typing import Any, Mapping


def check_combinations(config: Mapping[str, Any]) -> None:
    """Raise ConfigError for a combination of settings that cannot work."""
    transcription = config.get("transcription", {})
    if "model" in transcription and "language" in transcription:
        from v2m.domain.languages import check_model_language

        check_model_language(transcription["model"], transcription["language"])  # an .en model speaks English
