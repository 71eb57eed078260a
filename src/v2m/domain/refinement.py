"""Rules for trusting an LLM's rewrite of a transcript. Pure: no I/O.

A refinement may fix words and punctuation but must not summarise, expand
or answer the text, so its length has to stay close to the input's. A
translation may change length freely, but not run away.
"""

from __future__ import annotations

import re

# Reasoning models (DeepSeek-R1, Qwen3 on Ollama) put their thoughts in the content.
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"^\s*<think>", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u00ab": "\u00bb", "\u201e": "\u201c", "`": "`"}


def length_ratio(raw: str, out: str) -> float:
    """len(out) / len(raw), ignoring surrounding whitespace; 1.0 for two blanks."""
    n, m = len(raw.strip()), len(out.strip())
    if n == 0:
        return 1.0 if m == 0 else float("inf")
    return m / n


def within_bounds(raw: str, out: str, low: float = 0.85, high: float = 1.15,
                  slack_chars: int = 2) -> bool:
    """Is `out` between low and high times the length of `raw`?

    `slack_chars` lets very short texts gain a capital and a full stop
    ("yes" -> "Yes." is 133 %) without being rejected.
    """
    n, m = len(raw.strip()), len(out.strip())
    return n * low - slack_chars <= m <= n * high + slack_chars


def is_runaway(raw: str, out: str, factor: float = 4.0, slack_chars: int = 8) -> bool:
    """A translation far longer than its source: the model went on talking."""
    return len(out.strip()) > len(raw.strip()) * factor + slack_chars


def percent_of_input(raw: str, out: str) -> str:
    """"160 %" for messages; never includes the text itself."""
    ratio = length_ratio(raw, out)
    return "unbounded" if ratio == float("inf") else f"{ratio * 100:.0f} %"


def clean_completion(text: str, user: str = "") -> str:
    """The answer without reasoning blocks, surrounding whitespace or quotes.

    Quotes are kept when the user's own text was quoted the same way, or
    when more quotes inside show they are part of the text.
    """
    text = _THINK.sub("", text)
    if _OPEN_THINK.match(text):  # cut off mid-thought: no answer at all
        return ""
    text = text.strip()
    close = _QUOTES.get(text[:1])
    if close and len(text) >= 2 and text.endswith(close):
        inner, user = text[1:-1], user.strip()
        quoted_input = user.startswith(text[0]) and user.endswith(close)
        if not quoted_input and text[0] not in inner and close not in inner:
            text = inner.strip()
    return text
