"""The config schema: keys and types come from the packaged config.toml,
extra constraints (choices, ranges) from CONSTRAINTS below.

Standard library only, so client commands can validate `config set` values
without importing anything heavy.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import reprlib
import tomllib
from importlib import resources
from typing import Any, Mapping

from v2m.domain.errors import ConfigError

ENV_PREFIX = "V2M_"

# Bounds on what a config may hold. The daemon sends the whole config in one
# reply frame (1 MiB at most), so settings must stay well below that, and an
# error message quotes at most a short prefix of what it refuses.
MAX_STRING_CHARS = 4096
MAX_LIST_ITEMS = 1000
MAX_ITEM_CHARS = 1024
MAX_CONFIG_BYTES = 256 * 1024  # the effective config as JSON
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 8  # deeper tables are unknown keys, never recursed into
QUOTE_CHARS = 80

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxlist, _repr.maxdict, _repr.maxtuple = 3, 6, 6, 6
_repr.maxstring = _repr.maxother = _repr.maxlong = QUOTE_CHARS


def shorten(value: Any) -> str:
    """repr() of a value, cut to a short prefix: safe to put in any message."""
    if isinstance(value, str):
        return repr(value[:QUOTE_CHARS]) + ("…" if len(value) > QUOTE_CHARS else "")
    try:
        text = _repr.repr(value)
    except Exception:  # e.g. an int with more digits than str() allows
        return f"<{type(value).__name__}>"
    return text if len(text) <= 2 * QUOTE_CHARS else text[:2 * QUOTE_CHARS] + "…"


def _name(key: str) -> str:
    """A dotted key for a message, cut if a hostile input made it long."""
    key = str(key)
    return key if len(key) <= QUOTE_CHARS else key[:QUOTE_CHARS] + "…"


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
    "audio.min_hold_ms": Constraint(min_value=0, max_value=5_000),
    "transcription.engine": Constraint(choices=("local", "openai")),
    "transcription.remote.timeout_s": Constraint(min_value=0.5, max_value=600),
    "transcription.remote.file_timeout_s": Constraint(min_value=1, max_value=7200),
    "transcription.remote.cooldown_s": Constraint(min_value=0, max_value=3600),
    "transcription.remote.upload_format": Constraint(choices=("flac", "opus", "wav")),
    "server.max_upload_mb": Constraint(min_value=0.1, max_value=4096),
    "server.max_queue": Constraint(min_value=0, max_value=256),
    "server.queue_timeout_s": Constraint(min_value=0, max_value=3600),
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


def flatten(tree: Mapping[str, Any], prefix: str = "", _depth: int = 0) -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; tables deeper than MAX_DEPTH stay values."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and _depth < MAX_DEPTH:
            flat.update(flatten(value, dotted + ".", _depth + 1))
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
    """Check every key of a (possibly nested) partial config; return it flattened,
    with values normalized (a language name becomes its code)."""
    if not isinstance(partial, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {_type_name(partial)}")
    known = flatten(defaults if defaults is not None else load_defaults())
    flat = flatten(partial)
    for key, value in flat.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key {shorten(key)}",
                              _close_keys(key, known) or "see `v2m config show` for every key")
        flat[key] = _check_value(source, key, value, known[key])
    return flat


def _check_value(source: str, key: str, value: Any, default: Any) -> Any:
    """The value to use for `key`; raises ConfigError naming what was expected."""
    def bad(expected: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{source}: {key} = {shorten(value)}: expected {expected}", hint)

    if not _type_ok(default, value):
        raise bad(_type_name(default))
    if isinstance(value, float) and not math.isfinite(value):
        raise bad("a finite number")
    if isinstance(value, str):
        _check_text(source, key, value, MAX_STRING_CHARS)
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise ConfigError(f"{source}: {key} has {len(value)} items; at most {MAX_LIST_ITEMS} are allowed")
        if any(not isinstance(item, str) for item in value):
            raise bad("a list of strings")
        for item in value:
            _check_text(source, key, item, MAX_ITEM_CHARS, "an item of ")
        if key in LIST_CHOICES and any(item not in LIST_CHOICES[key] for item in value):
            raise bad("a list of " + ", ".join(repr(c) for c in LIST_CHOICES[key]))
    constraint = CONSTRAINTS.get(key)
    expected = constraint.check(value) if constraint else None
    if expected:
        raise bad(expected)
    if key == "transcription.language":
        return _check_language(source, key, value)
    if key == "text.replacements":
        _check_replacements(source, value)
    if key == "llm.base_url" and not value.startswith(("http://", "https://")):
        raise bad("an http:// or https:// URL", "for example http://127.0.0.1:11434/v1 for Ollama")
    return value


def _check_text(source: str, key: str, text: str, limit: int, what: str = "") -> None:
    if len(text) > limit:
        raise ConfigError(f"{source}: {what}{key} is {len(text)} characters long; "
                          f"at most {limit} are allowed", f"it starts {shorten(text)}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON ("\ud800"): unprintable, unwritable
        raise ConfigError(f"{source}: {what}{key} = {shorten(text)}: expected valid Unicode text") from None


def _check_language(source: str, key: str, value: str) -> str:
    from v2m.domain.languages import parse_language, suggest_languages

    if value.strip().lower() == "auto":
        return "auto"
    try:
        return parse_language(value)[0]
    except ValueError:
        close = suggest_languages(value) if len(value) <= 40 else []
        raise ConfigError(
            f"{source}: {key} = {shorten(value)}: expected \"auto\" or a language Whisper knows, "
            "by code or English name (en, de, fr, german, …)",
            f"did you mean {' or '.join(close)}?" if close else
            "use an ISO 639-1 code such as en, de, es, fr, ja, or \"auto\" to detect it") from None


def _check_replacements(source: str, rules: list[str]) -> None:
    from v2m.domain.text_rules import parse_replacement

    for rule in rules:
        try:
            parse_replacement(rule)
        except ValueError:
            raise ConfigError(f"{source}: text.replacements: {shorten(rule)} must look like "
                              "\"spoken words => written form\"") from None


def _close_keys(key: str, known: Mapping[str, Any]) -> str | None:
    import difflib

    if len(key) > 2 * QUOTE_CHARS:
        return None  # no key is that long, and matching it would be slow
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
    _check_size(merged, source)
    from v2m.config.cross_checks import check_combinations

    check_combinations(merged)
    return merged


def _check_size(config: Mapping[str, Any], source: str) -> None:
    """The whole config must fit easily in one reply frame (GET_CONFIG)."""
    size = len(json.dumps(config, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CONFIG_BYTES:
        flat = flatten(config)
        biggest = max(flat, key=lambda k: len(json.dumps(flat[k], ensure_ascii=False)))
        raise ConfigError(f"{source}: the settings come to {size // 1024} KiB; at most "
                          f"{MAX_CONFIG_BYTES // 1024} KiB are allowed", f"shorten {biggest}")
