"""The config schema: keys and types come from the packaged config.toml,
extra constraints (choices, ranges) from CONSTRAINTS below.

Standard library only, so client commands can validate `config set` values
without importing anything heavy.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tomllib
from importlib import resources
from typing import Any, Mapping

from v2m.domain.errors import ConfigError

ENV_PREFIX = "V2M_"


@dataclasses.dataclass(frozen=True)
class Constraint:
    choices: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None

    def check(self, value: Any) -> str | None:
        """Return what was expected when `value` breaks the constraint."""
        if self.choices is not None and value not in self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.min_value is not None and value < self.min_value:
            return f"a number >= {self.min_value}"
        if self.max_value is not None and value > self.max_value:
            return f"a number <= {self.max_value}"
        return None


CONSTRAINTS: dict[str, Constraint] = {
    "log.level": Constraint(choices=("debug", "info", "warning", "error")),
    "transcription.device": Constraint(choices=("auto", "cpu", "cuda")),
    "transcription.compute_type": Constraint(
        choices=("auto", "int8", "int8_float16", "int8_float32", "float16", "float32")),
    "transcription.task": Constraint(choices=("transcribe", "translate")),
    "transcription.beam_size": Constraint(min_value=1, max_value=10),
    "transcription.cpu_threads": Constraint(min_value=0, max_value=256),
    "audio.vad_aggressiveness": Constraint(min_value=0, max_value=3),
    "audio.min_silence_ms": Constraint(min_value=90, max_value=10_000),
    "audio.preroll_ms": Constraint(min_value=0, max_value=2_000),
    "audio.max_utterance_s": Constraint(min_value=2, max_value=29),
    "llm.timeout_s": Constraint(min_value=0.5, max_value=600),
    "llm.retries": Constraint(min_value=0, max_value=5),
}
# Keys whose list items must come from a fixed set.
LIST_CHOICES: dict[str, tuple[str, ...]] = {
    "output.sinks": ("clipboard", "type", "paste"),
}


def load_defaults() -> dict[str, Any]:
    text = resources.files("v2m").joinpath("config.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list"}.get(type(value), type(value).__name__)


def _type_ok(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return type(default) is type(value)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def validate_partial(partial: Mapping[str, Any], source: str,
                     defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check every key of a (possibly nested) partial config; return it flattened."""
    if not isinstance(partial, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {_type_name(partial)}")
    known = flatten(defaults if defaults is not None else load_defaults())
    flat = flatten(partial)
    for key, value in flat.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key {key!r}",
                              _close_keys(key, known) or "see `v2m config show` for every key")
        if not _type_ok(known[key], value):
            raise ConfigError(f"{source}: {key} = {value!r}: expected {_type_name(known[key])}")
        constraint = CONSTRAINTS.get(key)
        expected = constraint.check(value) if constraint else None
        if key in LIST_CHOICES and any(item not in LIST_CHOICES[key] for item in value):
            expected = "a list of " + ", ".join(repr(c) for c in LIST_CHOICES[key])
        if isinstance(value, list) and any(not isinstance(item, str) for item in value):
            expected = "a list of strings"
        if expected:
            raise ConfigError(f"{source}: {key} = {value!r}: expected {expected}")
        if key == "text.replacements":
            _check_replacements(source, value)
        if key == "llm.base_url" and not value.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: llm.base_url = {value!r}: expected an http:// or https:// URL",
                              "for example http://127.0.0.1:11434/v1 for Ollama")
    return flat


def _check_replacements(source: str, rules: list[str]) -> None:
    from v2m.domain.text_rules import parse_replacement

    for rule in rules:
        try:
            parse_replacement(rule)
        except ValueError as exc:
            raise ConfigError(f"{source}: text.replacements: {exc}") from None


def _close_keys(key: str, known: Mapping[str, Any]) -> str | None:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=3)
    return "did you mean " + " or ".join(close) + "?" if close else None


def merge(base: Mapping[str, Any], partial: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Validate `partial` and return a new config with it applied over `base`."""
    flat = validate_partial(partial, source)
    merged = copy.deepcopy(dict(base))
    for dotted, value in flat.items():
        section, _, leaf = dotted.rpartition(".")
        node = merged
        for part in section.split(".") if section else []:
            node = node.setdefault(part, {})
        node[leaf] = value
    return merged


def parse_value(key: str, text: str, defaults: Mapping[str, Any] | None = None) -> Any:
    """Turn a command-line or environment string into the key's type."""
    known = flatten(defaults if defaults is not None else load_defaults())
    if key not in known:
        raise ConfigError(f"unknown key {key!r}", _close_keys(key, known) or "see `v2m config show`")
    default = known[key]
    try:
        if isinstance(default, bool):
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, list):
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"{key} = {text!r}: expected {_type_name(default)}") from None
    return text


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read V2M_SECTION__KEY variables into a nested partial config."""
    environ = os.environ if environ is None else environ
    defaults = load_defaults()
    flat: dict[str, Any] = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        key = name[len(ENV_PREFIX):].lower().replace("__", ".")
        try:
            flat[key] = parse_value(key, text, defaults)
        except ConfigError as exc:
            raise ConfigError(f"environment variable {name}: {exc.message}", exc.hint) from None
    return unflatten(flat)


def load_file(path: os.PathLike[str] | str) -> dict[str, Any]:
    """Parse a user config file; a missing file is an empty config."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", "fix the file or remove it") from None


def load_effective(user_file: os.PathLike[str] | str,
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then the user's file, then V2M_* variables, each validated."""
    config = merge(load_defaults(), load_file(user_file), str(user_file))
    return merge(config, env_overrides(environ), "environment")
