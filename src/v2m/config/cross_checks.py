"""Checks across keys: combinations that are each valid alone but not
together. Each message names every key involved."""

from __future__ import annotations

from typing import Any, Mapping

from v2m.domain.errors import ConfigError


def check_combinations(config: Mapping[str, Any]) -> None:
    """Raise ConfigError for a combination of settings that cannot work."""
    transcription = config.get("transcription", {})
    if "model" in transcription and "language" in transcription:
        from v2m.domain.languages import check_model_language

        check_model_language(transcription["model"], transcription["language"])  # an .en model speaks English
    _check_live_typing(config)


def _check_live_typing(config: Mapping[str, Any]) -> None:
    # Live typing types each utterance for good as soon as it is final; a
    # refinement of the whole text at the stop could change what is typed.
    if config.get("output", {}).get("live") and config.get("llm", {}).get("refine"):
        raise ConfigError("output.live = true cannot be combined with llm.refine = true: live typing types "
                          "each utterance as soon as it is heard, before the whole text could be refined",
                          "turn one off: `v2m config set output.live false` or "
                          "`v2m config set llm.refine false`")
