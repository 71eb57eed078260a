"""Typed settings cover config.toml exactly: every key one field, same defaults."""

import dataclasses

import pytest

from v2m.config import schema
from v2m.config.settings import SECTIONS, Settings, needs_model_load


def test_every_key_of_config_toml_is_one_settings_field():
    keys = set(schema.flatten(schema.load_defaults()))
    fields = [f"{section}.{f.name}" for section, kind in SECTIONS.values() for f in dataclasses.fields(kind)]
    assert len(fields) == len(set(fields))  # no key read twice
    assert set(fields) == keys


def test_the_dataclass_defaults_are_the_documented_defaults():
    assert Settings.from_config(schema.load_defaults()) == Settings()


def test_lists_become_tuples_and_the_settings_are_frozen():
    config = schema.merge(schema.load_defaults(), {"output": {"sinks": ["type", "clipboard"]}}, "test")
    settings = Settings.from_config(config)
    assert settings.output.sinks == ("type", "clipboard")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.output.notify = False  # type: ignore[misc]


@pytest.mark.parametrize("key,value,reload", [
    ("model", "base.en", True), ("device", "cpu", True), ("compute_type", "int8", True), ("cpu_threads", 2, True),
    ("language", "auto", False), ("beam_size", 2, False), ("fast_stop", False, False),
])
def test_a_model_load_is_needed_exactly_for_the_load_keys(key, value, reload):
    defaults = schema.load_defaults()
    changed = schema.merge(defaults, {"transcription": {key: value}}, "test")
    assert needs_model_load(Settings.from_config(defaults), Settings.from_config(changed)) is reload


def test_the_top_level_config_toml_is_the_shipped_one():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert (root / "config.toml").read_text() == (root / "src" / "v2m" / "config.toml").read_text()
