"""Text rules applied to every dictation: spoken punctuation and commands,
word replacements, and capitalisation. Pure functions, no I/O."""

from __future__ import annotations

import dataclasses
import re

# Spoken form -> written form. Longer phrases first, so "new paragraph" wins over "new".
SPOKEN = {
    "new paragraph": "\n\n", "new line": "\n", "question mark": "?", "exclamation mark": "!",
    "exclamation point": "!", "full stop": ".", "period": ".", "comma": ",", "colon": ":",
    "semicolon": ";",
}
_SPOKEN_RE = re.compile(
    r"[ \t]*[,.;:!?]?[ \t]*\b(" + "|".join(re.escape(k) for k in sorted(SPOKEN, key=len, reverse=True))
    + r")\b[,.;:!?]*", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Replacement:
    spoken: str
    written: str


@dataclasses.dataclass(frozen=True)
class TextRules:
    replacements: tuple[Replacement, ...] = ()
    spoken_punctuation: bool = False


def parse_replacement(rule: str) -> Replacement:
    """"spoken => written"; raises ValueError with the expected form."""
    spoken, sep, written = rule.partition("=>")
    if not sep or not spoken.strip() or not written.strip():
        raise ValueError(f"replacement {rule!r} must look like \"spoken words => written form\"")
    return Replacement(spoken.strip(), written.strip())


def apply(text: str, rules: TextRules) -> str:
    if rules.spoken_punctuation:
        text = spoken_punctuation(text)
    for rule in rules.replacements:
        text = replace_words(text, rule)
    return capitalise(tidy(text))


def spoken_punctuation(text: str) -> str:
    """"hello comma world period" -> "hello, world." (Whisper's own stray
    punctuation around the spoken word is dropped)."""
    return _SPOKEN_RE.sub(lambda m: SPOKEN[m.group(1).lower()], text)


def replace_words(text: str, rule: Replacement) -> str:
    """Whole words, any case; a capitalised match keeps its capital."""
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, rule.spoken.split())) + r"(?!\w)",
                         re.IGNORECASE)

    def sub(match: re.Match) -> str:
        written = rule.written
        if match.group(0)[0].isupper() and written[0].islower():
            written = written[0].upper() + written[1:]
        return written
    return pattern.sub(sub, text)


def tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([,.;:!?])", r"\1", text)          # no space before punctuation
    text = re.sub(r"([,.;:!?])(?=[^\s\d,.;:!?\"')\]])", r"\1 ", text)  # one space after it
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)             # no spaces around line breaks
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip(" \t")


def capitalise(text: str) -> str:
    """Capital letter at the start, and after . ? ! and line breaks."""
    return re.sub(r"(^|[.?!]\s+|\n\s*)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
