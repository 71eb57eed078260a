"""PROCESS_TEXT and TRANSLATE_TEXT: LLM refinement and translation of text
sent by a client. An LLM failure is not an error: the raw text comes back
with `refined: false` and the reason."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from v2m.application.text_refinement import Refined, TextRefiner
from v2m.domain.errors import InvalidRequest


def _text(data: Mapping[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("data.text must be the text to process")
    return text


def _reply(result: Refined) -> dict[str, Any]:
    return {"text": result.text, "refined": result.refined, "fallback_reason": result.error}


class TextCommands:
    def __init__(self, refiner: Callable[[], TextRefiner]) -> None:
        self._refiner = refiner

    def process_text(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return _reply(self._refiner().refine(_text(data)))

    def translate_text(self, data: Mapping[str, Any]) -> dict[str, Any]:
        target = data.get("to", data.get("target_lang", data.get("language")))
        if not isinstance(target, str) or not target.strip():
            raise InvalidRequest("data.to must name the target language (a code such as \"de\", or a name)")
        return _reply(self._refiner().translate(_text(data), target))
