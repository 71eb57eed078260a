"""Use cases: refine a transcript, translate a text, with an LLM.

The user's words are never lost to the LLM: on any failure, or an answer
that does not look like a light correction, the raw text comes back with
the reason. Warnings name the reason only, never the text (it may be
private).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from v2m.application.ports import ChatModel
from v2m.domain.errors import InvalidRequest, V2mError
from v2m.domain.languages import parse_language, suggest_languages
from v2m.domain.refinement import is_runaway, percent_of_input, within_bounds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refined:
    """The text to deliver; `refined` False means it is the raw input, `error` says why."""

    text: str
    refined: bool
    error: str | None = None


class TextRefiner:
    def __init__(self, chat: Callable[[], ChatModel], prompt: Callable[[str], str]) -> None:
        # Factories, called per request, so config and prompt edits apply at once.
        self._chat = chat
        self._prompt = prompt

    def refine(self, text: str) -> Refined:
        """Fix recognition errors and punctuation, or return `text` unchanged with the reason."""
        if not text.strip():
            return Refined(text, False)
        try:
            out = self._chat().complete(self._prompt("refine"), text)
        except V2mError as exc:  # LlmError, or an unreadable prompt file
            return self._fallback(text, "refinement", exc.message)
        if not out.strip():
            return self._fallback(text, "refinement", "the LLM gave an empty answer")
        if not within_bounds(text, out):
            return self._fallback(text, "refinement",
                                  f"LLM output was {percent_of_input(text, out)} of the input's length")
        return Refined(out.strip(), True)

    def translate(self, text: str, to: str) -> Refined:
        """Translate into `to` (code or English name); raw text with the reason on failure.

        Raises InvalidRequest for an unknown language, before any LLM call.
        """
        name = language_name(to)
        if not text.strip():
            return Refined(text, False)
        try:
            # replace, not format: a user's prompt may contain other braces.
            prompt = self._prompt("translate").replace("{language}", name)
            out = self._chat().complete(prompt, text)
        except V2mError as exc:
            return self._fallback(text, "translation", exc.message)
        if not out.strip():
            return self._fallback(text, "translation", "the LLM gave an empty answer")
        if is_runaway(text, out):
            return self._fallback(text, "translation",
                                  f"LLM output was {percent_of_input(text, out)} of the input's length")
        return Refined(out.strip(), True)

    @staticmethod
    def _fallback(raw: str, what: str, reason: str) -> Refined:
        log.warning("%s skipped, keeping the raw text (%d chars): %s", what, len(raw), reason)
        return Refined(raw, False, reason)


def language_name(to: str) -> str:
    """The English name of a language code or name; InvalidRequest if unknown."""
    try:
        return parse_language(to)[1]
    except ValueError:
        close = suggest_languages(to)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise InvalidRequest(f"unknown language {to!r}",
                             hint + "give an ISO 639-1 code such as 'de' or an English name such as 'German'") from None
