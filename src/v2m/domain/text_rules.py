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


# Marks where a spoken command ended a sentence; capitalise() consumes it.
# (Written text is left alone: "e.g. example.com" must not become "e.g. Example.com".)
_CAPITAL = "\x00"


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


def vocabulary_prompt(words: tuple[str, ...] | list[str], previous: str = "") -> str:
    """Whisper's initial prompt: the user's vocabulary, then the text so far.
    Whisper continues the style and spelling of its prompt, so listed names
    come out spelled as listed."""
    glossary = ", ".join(w.strip() for w in words if w.strip())
    return " ".join(p for p in (glossary + "." if glossary else "", previous) if p)


def from_config(section: dict) -> TextRules:
    """The [text] table; replacements were validated with the config."""
    return TextRules(tuple(parse_replacement(r) for r in section.get("replacements", ())),
                     bool(section.get("spoken_punctuation", False)))


def apply(text: str, rules: TextRules) -> str:
    """The configured rules; with none, Whisper's text is left exactly as it is."""
    if not rules.spoken_punctuation and not rules.replacements:
        return text
    if rules.spoken_punctuation:
        text = spoken_punctuation(text)
    for rule in rules.replacements:
        text = replace_words(text, rule)
    return capitalise(tidy(text))


def spoken_punctuation(text: str) -> str:
    """"hello comma world period" -> "hello, world." (Whisper's own stray
    punctuation around the spoken word is dropped)."""
    def mark(match: re.Match) -> str:
        written = SPOKEN[match.group(1).lower()]
        if written in ".?!" or written.startswith("\n"):
            written += _CAPITAL  # the next word starts a sentence
        return written if written.startswith("\n") else written + " "
    return _SPOKEN_RE.sub(mark, text)


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
    text = re.sub(r"[ \t]*(\n+)\x00?[ \t]*", r"\1" + _CAPITAL, text)  # no spaces around breaks
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip(" \t")


def capitalise(text: str) -> str:
    """Capital letter at the start and after spoken sentence ends and breaks."""
    text = re.sub(_CAPITAL + r"(\s*)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    text = text.replace(_CAPITAL, "")
    return text[:1].upper() + text[1:]
