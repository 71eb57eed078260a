"""Settings written as text, on the command line (`v2m config set`) or in
V2M_* variables, turned into the key's type. A list may be a JSON or TOML
array ('["clipboard", "type"]', "['type']") or, for simple items, a comma
list (clipboard,type). Standard library only."""

from __future__ import annotations

import json
import math
import tomllib
from typing import Any, Mapping

from v2m.config.schema import _close_keys, _type_name, flatten, load_defaults, shorten
from v2m.domain.errors import ConfigError

LIST_FORMS = "a JSON or TOML array such as '[\"clipboard\", \"type\"]', or items separated by commas"


def parse_value(key: str, text: str, defaults: Mapping[str, Any] | None = None) -> Any:
    """Turn a command-line or environment string into the key's type."""
    known = flatten(defaults if defaults is not None else load_defaults())
    if key not in known:
        raise ConfigError(f"unknown key {shorten(key)}", _close_keys(key, known) or "see `v2m config show`")
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
            number = float(text)
            if not math.isfinite(number):
                raise ConfigError(f"{key} = {shorten(text)}: expected a finite number")
            return number
        if isinstance(default, list):
            if text.lstrip().startswith("["):
                return _array(key, text)
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"{key} = {shorten(text)}: expected {_type_name(default)}") from None
    return text


def _array(key: str, text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            raise ConfigError(f"{key}: {shorten(text)} is not a list I can read",
                              f"write {LIST_FORMS}; quote the whole value for the shell") from None
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        raise ConfigError(f"{key}: {shorten(text)} is not a list of strings", f"write {LIST_FORMS}")
    return value
