"""Command-line values for `v2m config set`: a list may be written as a JSON
or TOML array ('["clipboard", "type"]', "['type']"), or, for simple items,
as a comma list (clipboard,type). Standard library only."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from v2m.config import schema as config_schema
from v2m.domain.errors import ConfigError

LIST_FORMS = "a JSON or TOML array such as '[\"clipboard\", \"type\"]', or items separated by commas"


def parse_value(key: str, text: str) -> Any:
    """`text` as the key's type; ConfigError names the forms a list takes."""
    default = config_schema.flatten(config_schema.load_defaults()).get(key)
    if isinstance(default, list) and text.lstrip().startswith("["):
        return _array(key, text)
    return config_schema.parse_value(key, text)


def _array(key: str, text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            raise ConfigError(f"{key}: {text[:80]} is not a list I can read",
                              f"write {LIST_FORMS}; quote the whole value for the shell") from None
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        raise ConfigError(f"{key}: {text[:80]} is not a list of strings", f"write {LIST_FORMS}")
    return value
