"""With transcription.task = "translate" the text is English, so its spoken
commands are read with English's table, whatever language was spoken."""

from types import SimpleNamespace

from v2m import bootstrap
from v2m.application import dictation
from v2m.application.dictation_options import DictationOptions
from v2m.config import schema
from v2m.config.settings import Settings
from v2m.domain.text_rules import TextRules


def settings_with(task: str) -> Settings:
    config = schema.load_defaults()
    config["transcription"]["task"] = task
    return Settings.from_config(config)


def test_translation_is_set_from_the_task():
    assert bootstrap.dictation_options(settings_with("translate")).translate is True
    assert bootstrap.dictation_options(settings_with("transcribe")).translate is False


def test_translated_text_takes_the_english_spoken_commands():
    spanish = SimpleNamespace(language_used="es", options=DictationOptions(language="auto"))
    translated = SimpleNamespace(language_used="es", options=DictationOptions(language="auto", translate=True))
    rules = TextRules(spoken_punctuation=True)
    assert dictation._apply("hola coma amigo", rules, dictation._text_language(spanish)) == "Hola, amigo"
    assert dictation._text_language(translated) == "en"
    assert dictation._apply("hello comma friend", rules, dictation._text_language(translated)) == "Hello, friend"
    # The history still says which language was spoken.
    assert dictation._language(translated) == "es"
