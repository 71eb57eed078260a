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
    assert apply("the period of time", TextRules()) == "the period of time"
    assert apply("the period of time", TextRules(replacements=(Replacement("x", "y"),))) == "The period of time"


def test_replacements_whole_word_and_case_aware():
    rules = TextRules(replacements=(parse_replacement("github => GitHub"),
                                    parse_replacement("v two m => v2m"),
                                    Replacement("teh", "the")))
    assert apply("push to github and githubber", rules) == "Push to GitHub and githubber"
    assert apply("V two M is fast", rules) == "V2m is fast"
    assert apply("Teh cat", rules) == "The cat"
    assert apply("tehran", rules) == "Tehran"


def test_capitalisation_only_where_a_spoken_command_ended_the_sentence():
    assert apply("one period two question mark three new line four", SPOKEN) == "One. Two? Three\nFour"
    # Whisper's own text keeps its casing, apart from the first letter.
    assert apply("one. two e.g. three", SPOKEN) == "One. two e.g. three"


def test_bad_replacement_rule_is_rejected_with_the_form():
    with pytest.raises(ValueError, match="spoken words => written form"):
        parse_replacement("github GitHub")


@pytest.mark.parametrize("raw", ["see e.g. example.com at 3.5 GHz", "v2m's U.S. release"])
def test_written_punctuation_is_left_alone(raw):
    assert apply(raw, SPOKEN) == raw[0].upper() + raw[1:]


def test_vocabulary_leads_the_prompt():
    from v2m.domain.text_rules import vocabulary_prompt

    assert vocabulary_prompt(["Kubernetes", " PyAudio "], "Earlier text.") == "Kubernetes, PyAudio. Earlier text."
    assert vocabulary_prompt([], "Earlier text.") == "Earlier text."
    assert vocabulary_prompt(["v2m"]) == "v2m."


def test_rules_from_the_config_table():
    from v2m.domain.text_rules import from_config

    rules = from_config({"replacements": ["e mail => email"], "spoken_punctuation": True})
    assert apply("send an e mail period", rules) == "Send an email."


SPOKEN_ES = TextRules(spoken_punctuation=True, language="es")


@pytest.mark.parametrize("raw, expected", [
    ("hola coma cómo estás signo de interrogación", "¿Hola, cómo estás?"),
    ("uno punto y coma dos dos puntos tres punto", "Uno; dos: tres."),       # "punto y coma" wins over "punto"
    ("qué bien signo de exclamación nueva línea adiós punto", "¡Qué bien!\nAdiós."),
    ("llamé a Juan abrir paréntesis mi primo cerrar paréntesis ayer punto", "Llamé a Juan (mi primo) ayer."),
    ("primero punto nuevo párrafo segundo", "Primero.\n\nSegundo"),
    ("él vino punto él se fue signo de interrogación", "Él vino. ¿Él se fue?"),
    ("abrir interrogación vienes mañana cerrar interrogación", "¿Vienes mañana?"),
    ("Hola, coma, ¿cómo estás? Signo de interrogación.", "Hola, ¿cómo estás?"),  # Whisper's own marks
    ("cuesta 3.5 euros signo de interrogación", "¿Cuesta 3.5 euros?"),
    ("fin punto y aparte otro", "Fin.\n\nOtro"),
])
def test_spanish_spoken_punctuation(raw, expected):
    assert apply(raw, SPOKEN_ES) == expected
    assert apply(raw, SPOKEN, language="es") == expected  # the dictation's language overrides


@pytest.mark.parametrize("raw, expected", [
    ("hola signo de interrogacion", "¿Hola?"), ("qué bien SIGNO DE EXCLAMACION", "¡Qué bien!"),
    ("nueva linea uno nuevo parrafo dos", "\nUno\n\nDos"), ("a abrir parentesis b cerrar parentesis", "A (b)"),
])
def test_spanish_accents_and_case_are_optional(raw, expected):
    assert apply(raw, SPOKEN_ES) == expected


def test_no_opening_mark_for_an_empty_sentence():
    assert apply("signo de interrogación", SPOKEN_ES) == "?"


def test_tables_follow_the_language():
    assert apply("hola coma amigo", SPOKEN) == "Hola coma amigo"          # English rules: "coma" is a word
    assert apply("hello comma friend", SPOKEN_ES) == "Hello comma friend"  # Spanish rules: "comma" is
    assert apply("hallo Komma Freund Punkt", SPOKEN, language="de") == "Hallo, Freund."


@pytest.mark.parametrize("language", ["fr", "auto", "", "xx", "EN"])
def test_languages_without_a_table_use_english(language):
    assert apply("one comma two period", SPOKEN, language=language) == "One, two."
    assert apply("one comma two period", TextRules(spoken_punctuation=True, language=language)) == "One, two."


def test_the_language_comes_from_the_config_too():
    from v2m.domain.text_rules import from_config

    rules = from_config({"spoken_punctuation": True}, language="es")
    assert apply("sí punto", rules) == "Sí."
    assert from_config({}).language == "en"


def test_every_table_is_well_formed():
    from v2m.domain import spoken

    assert set(spoken.TABLES) >= {"en", "es"} and spoken.table(None) is spoken.TABLES["en"]
    for table in spoken.TABLES.values():
        assert table.words and all(k == k.lower().strip() and v for k, v in table.words.items())
        assert set(table.opening) <= set(table.words.values())
