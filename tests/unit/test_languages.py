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
