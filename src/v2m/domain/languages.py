"""The languages Whisper knows, by code and English name.

Codes are Whisper's: ISO 639-1 where one exists, plus "haw" (Hawaiian),
"yue" (Cantonese) and "jw" (Whisper's code for Javanese, ISO "jv").
Names are what an LLM prompt says ("translate into German").
"""

from __future__ import annotations

import difflib

from v2m.domain.errors import ConfigError
from v2m.domain.model_catalog import CATALOG

LANGUAGES: dict[str, str] = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian",
    "ko": "Korean", "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish",
    "pl": "Polish", "ca": "Catalan", "nl": "Dutch", "ar": "Arabic", "sv": "Swedish",
    "it": "Italian", "id": "Indonesian", "hi": "Hindi", "fi": "Finnish", "vi": "Vietnamese",
    "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay", "cs": "Czech",
    "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian",
    "la": "Latin", "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak",
    "te": "Telugu", "fa": "Persian", "lv": "Latvian", "bn": "Bengali", "sr": "Serbian",
    "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada", "et": "Estonian", "mk": "Macedonian",
    "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian", "ne": "Nepali",
    "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian", "sw": "Swahili",
    "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala", "km": "Khmer",
    "sn": "Shona", "yo": "Yoruba", "so": "Somali", "af": "Afrikaans", "oc": "Occitan",
    "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi", "gu": "Gujarati",
    "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek", "fo": "Faroese",
    "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk", "mt": "Maltese",
    "sa": "Sanskrit", "lb": "Luxembourgish", "my": "Burmese", "bo": "Tibetan", "tl": "Tagalog",
    "mg": "Malagasy", "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala",
    "ha": "Hausa", "ba": "Bashkir", "jw": "Javanese", "su": "Sundanese", "yue": "Cantonese",
}

# Other names and codes people type for the same languages (Whisper accepts most).
ALIASES: dict[str, str] = {
    "jv": "jw", "nb": "no", "iw": "he", "in": "id", "fil": "tl",
    "burmese": "my", "myanmar": "my", "castilian": "es", "flemish": "nl", "moldavian": "ro",
    "moldovan": "ro", "valencian": "ca", "mandarin": "zh", "panjabi": "pa", "pushto": "ps",
    "sinhalese": "si", "haitian": "ht", "letzeburgesch": "lb", "farsi": "fa",
    "norwegian bokmal": "no", "bokmal": "no", "norwegian nynorsk": "nn", "filipino": "tl",
    "slovene": "sl",
}

_BY_NAME = {name.lower(): code for code, name in LANGUAGES.items()}


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).lower()


def suggest_languages(text: str, limit: int = 3) -> list[str]:
    """English names close to `text`, best first (for "did you mean")."""
    key = _key(text)
    names = list(_BY_NAME) + [a for a in ALIASES if len(a) > 3]
    seen: list[str] = []
    for match in difflib.get_close_matches(key, names, n=limit * 2, cutoff=0.6):
        name = LANGUAGES[_BY_NAME.get(match) or ALIASES[match]]
        if name not in seen:
            seen.append(name)
    return seen[:limit]


def parse_language(text: str) -> tuple[str, str]:
    """A code ("de") or English name ("german"), any case -> ("de", "German").

    Raises ValueError naming close matches when the input is no language.
    """
    key = _key(text)
    code = key if key in LANGUAGES else _BY_NAME.get(key) or ALIASES.get(key)
    if code:
        return code, LANGUAGES[code]
    close = suggest_languages(text)
    tip = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown language {text!r}{tip}")


# A detected language below this probability is a guess: a dictation uses it
# for that utterance only, and detects again on the next one, until an
# answer clears the bar. Measured on multilingual `base` (see
# infrastructure/asr/language_detect.py): every wrong answer scored below
# it; English and clear Spanish sentences score above.
DETECTION_BAR = 0.9

# The languages an English-only model (tiny.en, base.en, ...) can be set to.
ENGLISH_ONLY_LANGUAGES = ("en", "auto")


def is_english_only(model_name: str) -> bool:
    """A catalog model marked English-only, or any model (name or path) ending in ".en"."""
    name = model_name.strip().rstrip("/").rsplit("/", 1)[-1]
    entry = CATALOG.get(name)
    return entry.english_only if entry else name.lower().endswith(".en")


def _code(language: str) -> str | None:
    """A language's code, "auto", or None for no language (the language check reports that)."""
    key = _key(language)
    if key == "auto":
        return key
    try:
        return parse_language(key)[0]
    except ValueError:
        return None


def check_model_language(model_name: str, language: str) -> None:
    """Raise ConfigError when an English-only model is set to another language.

    Names both keys, transcription.model and transcription.language, and the
    two ways out.
    """
    code = _code(language)
    if code is None or code in ENGLISH_ONLY_LANGUAGES or not is_english_only(model_name):
        return
    stem = model_name.strip().rsplit(".", 1)[0]
    multilingual = stem if stem in CATALOG else "base"
    raise ConfigError(
        f"transcription.model = {model_name!r} is English-only, but transcription.language = "
        f"{language!r}", f"set transcription.language to \"en\" or \"auto\", or pick a multilingual "
        f"model such as {multilingual!r} (`v2m models pull {multilingual}`)")


def effective_language(model_name: str, language: str) -> str:
    """The language a pass runs in: "auto" on an English-only model is "en"
    (no detection to run); otherwise the setting's code, "auto" included."""
    code = _code(language) or language
    return "en" if code == "auto" and is_english_only(model_name) else code
