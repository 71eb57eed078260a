import pytest

from v2m.config import schema as config_schema
from v2m.config import sources as config_sources
from v2m.config import values as config_values
from v2m.domain.errors import ConfigError


def test_defaults_parse_and_validate():
    defaults = config_schema.load_defaults()
    assert defaults["transcription"]["model"] == "tiny.en"
    assert config_schema.merge(defaults, defaults, "defaults") == defaults


def test_wrong_type_names_file_key_value_and_expectation(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[log]\nlevel = 3\n')
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(path, environ={})
    message = str(info.value)
    assert str(path) in message and "log.level" in message and "3" in message
    assert "expected a string" in message


def test_unknown_key_suggests_close_match(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[transcription]\nmodle = "base.en"\n')
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(path, environ={})
    assert "transcription.modle" in str(info.value)
    assert "did you mean transcription.model" in str(info.value)


def test_constraint_violation_lists_choices(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[log]\nlevel = "loud"\n')
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(path, environ={})
    assert "'loud'" in str(info.value) and "'debug'" in str(info.value)


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[log\nlevel=")
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(path, environ={})
    assert str(path) in str(info.value) and "not valid TOML" in str(info.value)


def test_section_replaced_by_scalar_is_rejected():
    with pytest.raises(ConfigError) as info:
        config_schema.validate_partial({"log": "debug"}, "f.toml")
    assert "unknown key 'log'" in str(info.value)


def test_bool_is_not_accepted_for_a_string():
    with pytest.raises(ConfigError):
        config_schema.validate_partial({"transcription": {"model": True}}, "f.toml")


def test_layering_user_file_then_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[transcription]\nmodel = "base.en"\n[log]\nlevel = "warning"\n')
    config = config_sources.load_effective(path, environ={"V2M_LOG__LEVEL": "debug", "V2M_BIN": "x"})
    assert config["transcription"]["model"] == "base.en"
    assert config["log"]["level"] == "debug"


def test_missing_user_file_gives_defaults(tmp_path):
    assert config_sources.load_effective(tmp_path / "none.toml", environ={}) == config_schema.load_defaults()


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(tmp_path / "none.toml", environ={"V2M_LOG__LEVEL": "loud"})
    assert "environment" in str(info.value) and "log.level" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config_sources.load_effective(tmp_path / "none.toml", environ={"V2M_NOPE__X": "1"})
    assert "V2M_NOPE__X" in str(info.value)


@pytest.mark.parametrize("default, text, expected", [
    (True, "yes", True), (True, "off", False), (3, "42", 42), (0.5, "1.25", 1.25),
    (["a"], "x, y", ["x", "y"]), ("s", "text", "text"),
])
def test_parse_value_by_type(default, text, expected):
    assert config_values.parse_value("a.b", text, {"a": {"b": default}}) == expected


@pytest.mark.parametrize("default, text", [(True, "maybe"), (3, "4.5"), (0.5, "fast")])
def test_parse_value_rejects_bad_text(default, text):
    with pytest.raises(ConfigError) as info:
        config_values.parse_value("a.b", text, {"a": {"b": default}})
    assert "a.b" in str(info.value) and repr(text) in str(info.value)


def test_flatten_unflatten_round_trip():
    tree = {"a": {"b": 1, "c": {"d": "x"}}, "e": {"f": [1]}}
    assert config_schema.unflatten(config_schema.flatten(tree)) == tree


@pytest.mark.parametrize("partial, message", [
    ({"text": {"replacements": ["github GitHub"]}}, "spoken words => written form"),
    ({"text": {"replacements": [3]}}, "a list of strings"),
    ({"text": {"vocabulary": "Kubernetes"}}, "expected a list"),
    ({"llm": {"base_url": "ftp://host/v1"}}, "http:// or https://"),
    ({"llm": {"timeout_s": 0}}, ">= 0.5"),
    ({"llm": {"retries": 9}}, "<= 5"),
])
def test_text_and_llm_settings_are_checked(partial, message):
    with pytest.raises(ConfigError, match=message):
        config_schema.validate_partial(partial, "test")


def test_llm_and_text_keys_parse_from_the_command_line():
    assert config_values.parse_value("llm.base_url", "http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert config_values.parse_value("text.replacements", "e mail => email, git hub => GitHub") == \
        ["e mail => email", "git hub => GitHub"]
    assert config_values.parse_value("llm.refine", "on") is True
    flat = config_schema.validate_partial({"llm": {"base_url": "https://api.openai.com/v1", "timeout_s": 30}}, "t")
    assert flat == {"llm.base_url": "https://api.openai.com/v1", "llm.timeout_s": 30}


@pytest.mark.parametrize("text, expected", [("[]", []), ('["type"]', ["type"]), ("['clipboard', 'type']",
                                            ["clipboard", "type"]), ("clipboard,type", ["clipboard", "type"])])
def test_list_variables_take_the_same_forms_as_config_set(tmp_path, text, expected):
    config = config_sources.load_effective(tmp_path / "none.toml", environ={"V2M_OUTPUT__SINKS": text})
    assert config["output"]["sinks"] == expected
