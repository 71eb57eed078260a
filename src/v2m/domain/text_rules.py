"""Text rules applied to every dictation: spoken punctuation and commands,
word replacements, and capitalisation. Pure functions, no I/O."""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata

from v2m.domain import spoken as spoken_tables

# English's table, as it was before the tables went per language (v2m.domain.spoken).
SPOKEN = dict(spoken_tables.table("en").words)
_MARKS = ",.;:!?¿¡"
_OPENERS = "(¿¡"
_ENDS = ".?!"


# Marks where a spoken command ended a sentence; capitalise() consumes it.
# (Written text is left alone: "e.g. example.com" must not become "e.g. Example.com".)
_CAPITAL = "\x00"
# Marks a spoken closing mark whose sentence may need its opening one ("¿").
_OPEN = "\x01"


@dataclasses.dataclass(frozen=True)
class Replacement:
    spoken: str
    written: str


@dataclasses.dataclass(frozen=True)
class TextRules:
    replacements: tuple[Replacement, ...] = ()
    spoken_punctuation: bool = False
    # Whose spoken commands apply: a code with a table in v2m.domain.spoken,
    # else English's (see there). apply(language=...) overrides it per text.
    language: str = "en"


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


def from_config(section: dict, language: str = "en") -> TextRules:
    """The [text] table; replacements were validated with the config.
    `language`: transcription.language (or the detected one)."""
    return TextRules(tuple(parse_replacement(r) for r in section.get("replacements", ())),
                     bool(section.get("spoken_punctuation", False)), language)


def apply(text: str, rules: TextRules, language: str | None = None) -> str:
    """The configured rules; with none, Whisper's text is left exactly as it is.
    `language` (a dictation's detected language) overrides rules.language."""
    if not rules.spoken_punctuation and not rules.replacements:
        return text
    if rules.spoken_punctuation:
        text = spoken_punctuation(text, language or rules.language)
    for rule in rules.replacements:
        text = replace_words(text, rule)
    return capitalise(tidy(text))


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: how spoken phrases are compared."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(bare.split())


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a regex whose accented letters match with or without their accent."""
    def char(c: str) -> str:
        bare = _fold(c)
        return f"[{re.escape(c)}{re.escape(bare)}]" if bare and bare != c.casefold() else re.escape(c)
    return r"[ \t]+".join("".join(map(char, word)) for word in phrase.split())


@functools.lru_cache(maxsize=None)
def _spoken_re(language: str) -> tuple[re.Pattern, dict[str, str], dict[str, str]]:
    table = spoken_tables.table(language)
    phrases = sorted(table.words, key=len, reverse=True)  # the longest phrase wins
    pattern = re.compile(rf"[ \t]*[{_MARKS}]?[ \t]*\b(" + "|".join(map(_phrase_pattern, phrases))
                         + rf")\b[{_MARKS}]*", re.IGNORECASE)
    return pattern, {_fold(k): v for k, v in table.words.items()}, dict(table.opening)


def spoken_punctuation(text: str, language: str = "en") -> str:
    """"hello comma world period" -> "hello, world." (Whisper's own stray
    punctuation around the spoken word is dropped), with `language`'s table."""
    pattern, words, opening = _spoken_re(language)

    def mark(match: re.Match) -> str:
        written = words[_fold(match.group(1))]
        if written in opening:
            written = _OPEN + written  # its sentence may need the opening mark
        if written[-1] in _ENDS or written.endswith("\n"):
            written += _CAPITAL  # the next word starts a sentence
        if written in _OPENERS:
            return " " + written
        return written if "\n" in written else written + " "
    text = pattern.sub(mark, text)
    return _open_sentences(text, opening) if opening else text


def _open_sentences(text: str, opening: dict[str, str]) -> str:
    """Put "¿" / "¡" at the start of each sentence closed by a spoken "?" / "!",
    unless it has one already."""
    out: list[str] = []
    start = 0  # where the current sentence starts in `out`
    for i, c in enumerate(text):
        if c == _OPEN:
            sentence = "".join(out[start:])
            mark = opening[text[i + 1]]
            if mark not in sentence and sentence.strip(" \t\n" + _CAPITAL):
                lead = len(sentence) - len(sentence.lstrip(" \t\n" + _CAPITAL))
                out.insert(start + lead, mark)
            continue
        out.append(c)
        if c == "\n" or c in _ENDS and text[i + 1:i + 2] in ("", " ", "\t", "\n", _CAPITAL):
            start = len(out)
    return "".join(out)


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
    text = re.sub(r"[ \t]+([,.;:!?)])", r"\1", text)         # no space before punctuation
    text = re.sub(r"([(¿¡])[ \t]+", r"\1", text)            # nor after an opening mark
    text = re.sub(r"[ \t]*(\n+)\x00?[ \t]*", r"\1" + _CAPITAL, text)  # no spaces around breaks
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip(" \t")


def capitalise(text: str) -> str:
    """Capital letter at the start and after spoken sentence ends and breaks."""
    text = re.sub(_CAPITAL + r"(\s*[(¿¡\"«]*)([^\W\d_])", lambda m: m.group(1) + _upper(m.group(2)), text)
    text = text.replace(_CAPITAL, "")
    return re.sub(r"^([(¿¡\"«]*)([^\W\d_])", lambda m: m.group(1) + _upper(m.group(2)), text, count=1)


def _upper(letter: str) -> str:
    upper = letter.upper()
    return upper if len(upper) == 1 else letter  # "ß" stays, not "SS"
