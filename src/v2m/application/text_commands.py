"""PROCESS_TEXT and TRANSLATE_TEXT: LLM refinement and translation of text
sent by a client. An LLM failure is not an error: the raw text comes back
with `refined: false` and the reason."""

from __future__ import annotations

from typing import Any, Callable

from v2m.application.commands import ProcessText, TranslateText
from v2m.application.text_refinement import Refined, TextRefiner


def _reply(result: Refined) -> dict[str, Any]:
    return {"text": result.text, "refined": result.refined, "fallback_reason": result.error}


class TextCommands:
    def __init__(self, refiner: Callable[[], TextRefiner]) -> None:
        self._refiner = refiner

    def process_text(self, command: ProcessText) -> dict[str, Any]:
        return _reply(self._refiner().refine(command.text))

    def translate_text(self, command: TranslateText) -> dict[str, Any]:
        return _reply(self._refiner().translate(command.text, command.target))
