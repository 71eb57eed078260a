import pytest

from v2m.domain.languages import LANGUAGES, parse_language, suggest_languages


def test_the_table_covers_whisper():
    assert len(LANGUAGES) >= 99
    assert LANGUAGES["en"] == "English" and LANGUAGES["yue"] == "Cantonese"
    assert len(set(LANGUAGES.values())) == len(LANGUAGES)


@pytest.mark.parametrize("text, expected", [
    ("de", ("de", "German")), ("DE", ("de", "German")), ("german", ("de", "German")),
    (" German ", ("de", "German")), ("haitian creole", ("ht", "Haitian Creole")),
    ("Haitian-Creole", ("ht", "Haitian Creole")), ("farsi", ("fa", "Persian")),
    ("jv", ("jw", "Javanese")), ("myanmar", ("my", "Burmese")),
])
def test_codes_names_and_aliases(text, expected):
    assert parse_language(text) == expected


def test_unknown_language_suggests_close_names():
    with pytest.raises(ValueError, match="did you mean German"):
        parse_language("germn")
    assert suggest_languages("spansh")[0] == "Spanish"
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        parse_language("xx")


@pytest.mark.parametrize("model", ["tiny.en", "base.en", "small.en", "medium.en", "/models/custom.en", "my.EN"])
@pytest.mark.parametrize("language", ["de", "German", "es", "zh"])
def test_english_only_model_with_another_language_names_both_keys(model, language):
    from v2m.domain.errors import ConfigError
    from v2m.domain.languages import check_model_language

    with pytest.raises(ConfigError) as caught:
        check_model_language(model, language)
    assert "transcription.model" in caught.value.message and "transcription.language" in caught.value.message
    assert repr(model) in caught.value.message and repr(language) in caught.value.message
    assert "multilingual" in caught.value.hint


def test_the_hint_names_the_multilingual_sibling():
    from v2m.domain.errors import ConfigError
    from v2m.domain.languages import check_model_language

    with pytest.raises(ConfigError, match="v2m models pull small"):
        check_model_language("small.en", "fr")
    with pytest.raises(ConfigError, match="v2m models pull base"):
        check_model_language("/models/custom.en", "fr")


@pytest.mark.parametrize("model, language", [
    ("tiny.en", "en"), ("tiny.en", "auto"), ("base.en", "English"), ("base.en", "AUTO"),
    ("base", "de"), ("large-v3", "zh"), ("tiny", "auto"), ("/models/custom", "ru"),
    ("tiny.en", "xx"),  # no language at all: the language check reports that, not this one
])
def test_good_combinations_pass(model, language):
    from v2m.domain.languages import check_model_language

    assert check_model_language(model, language) is None


@pytest.mark.parametrize("model, language, expected", [
    ("tiny.en", "auto", "en"), ("base.en", "en", "en"), ("/m/custom.en/", "auto", "en"),
    ("base", "auto", "auto"), ("base", "es", "es"), ("base", "Spanish", "es"), ("large-v3", "auto", "auto"),
])
def test_effective_language(model, language, expected):
    from v2m.domain.languages import effective_language

    assert effective_language(model, language) == expected


def test_english_only_follows_the_catalog():
    from v2m.domain.languages import is_english_only
    from v2m.domain.model_catalog import CATALOG

    assert all(is_english_only(name) == entry.english_only for name, entry in CATALOG.items())
