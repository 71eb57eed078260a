import pytest

from v2m.domain.text_rules import Replacement, TextRules, apply, parse_replacement

SPOKEN = TextRules(spoken_punctuation=True)


@pytest.mark.parametrize("raw, expected", [
    ("hello comma how are you question mark", "Hello, how are you?"),
    ("Hello, comma, how are you? Question mark.", "Hello, how are you?"),
    ("first line new line second line period", "First line\nSecond line."),
    ("one new paragraph two", "One\n\nTwo"),
    ("stop period then go exclamation mark", "Stop. Then go!"),
    ("note colon buy milk", "Note: buy milk"),
])
def test_spoken_punctuation_and_commands(raw, expected):
    assert apply(raw, SPOKEN) == expected


def test_spoken_words_stay_words_when_the_option_is_off():
    assert apply("the period of time", TextRules()) == "The period of time"


def test_replacements_whole_word_and_case_aware():
    rules = TextRules(replacements=(parse_replacement("github => GitHub"),
                                    parse_replacement("v two m => v2m"),
                                    Replacement("teh", "the")))
    assert apply("push to github and githubber", rules) == "Push to GitHub and githubber"
    assert apply("V two M is fast", rules) == "V2m is fast"
    assert apply("Teh cat", rules) == "The cat"
    assert apply("tehran", rules) == "Tehran"


def test_capitalisation_after_sentence_ends_and_breaks():
    assert apply("one. two? three! four\nfive", TextRules()) == "One. Two? Three! Four\nFive"


def test_bad_replacement_rule_is_rejected_with_the_form():
    with pytest.raises(ValueError, match="spoken words => written form"):
        parse_replacement("github GitHub")
