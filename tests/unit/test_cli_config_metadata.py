"""Every setting says how it reaches a running daemon, and `config set` says it."""

import pytest

from v2m.cli.config_cmd import applies_message
from v2m.config.values import parse_value
from v2m.config import applies, schema
from v2m.config.settings import ModelLoadOptions
from v2m.domain.errors import ConfigError

KEYS = sorted(schema.flatten(schema.load_defaults()))


@pytest.mark.parametrize("key", KEYS)
def test_each_key_of_config_toml_has_exactly_one_entry(key):
    in_table, reloads = key in applies.APPLIES, key in applies.model_load_keys()
    assert in_table != reloads, f"{key}: give it an entry in applies.APPLIES (or make it a model-load key)"
    how, why = applies.applies(key)
    assert how in (applies.LIVE, applies.RELOAD, applies.RESTART) and why.strip()


def test_no_entry_names_a_key_that_config_toml_lacks():
    assert set(applies.APPLIES) <= set(KEYS)
    assert applies.model_load_keys() <= set(KEYS)


def test_model_load_keys_follow_the_daemons_reload_test():
    assert applies.model_load_keys() == {f"transcription.{name}" for name in ModelLoadOptions.__dataclass_fields__}
    assert applies.applies("transcription.model")[0] == applies.RELOAD
    assert applies.applies("log.level")[0] == applies.LIVE


def _effective(**flat):
    config = schema.load_defaults()
    return schema.merge(config, schema.unflatten(flat), "test") if flat else config


def test_applies_message_for_each_kind(monkeypatch):
    assert applies_message("log.level", "info", _effective()).startswith("applies now")
    assert "loads the model" in applies_message("transcription.model", "tiny.en", _effective())
    assert "not running" in applies_message("log.level", "debug", None)
    monkeypatch.setitem(applies.APPLIES, "log.level", (applies.RESTART, "read at start"))
    message = applies_message("log.level", "info", _effective())
    assert "takes effect after `systemctl --user restart v2m`" in message and "read at start" in message


def test_applies_message_names_the_environment_variable_that_wins():
    message = applies_message("log.level", "debug", _effective(**{"log.level": "error"}))
    assert "V2M_LOG__LEVEL" in message and "applies now" not in message


@pytest.mark.parametrize("text,expected", [
    ('["type"]', ["type"]), ("['paste', \"clipboard\"]", ["paste", "clipboard"]),
    ("clipboard, type", ["clipboard", "type"]), ("[]", []), ("", []),
    ('["Smith, Jones"]', ["Smith, Jones"]), ('[\n "a",\n "b",\n]', ["a", "b"]),
])
def test_list_values_take_json_toml_and_comma_forms(text, expected):
    assert parse_value("text.vocabulary", text) == expected


@pytest.mark.parametrize("text", ['["x"', "[1, 2]", "[[\"a\"]]"])
def test_bad_list_values_name_the_forms(text):
    with pytest.raises(ConfigError) as err:
        parse_value("text.vocabulary", text)
    assert "JSON or TOML array" in str(err.value)


def test_scalar_values_are_unchanged():
    assert parse_value("audio.device", "[USB]") == "[USB]"  # a string key takes the text as is
    assert parse_value("audio.min_silence_ms", "700") == 700
