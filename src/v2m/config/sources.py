"""Where a config comes from: the user's TOML file and V2M_* environment
variables, each read with bounds and validated by the schema."""

from __future__ import annotations

import os
import tomllib
from typing import Any, Mapping

from v2m.config.schema import ENV_PREFIX, MAX_FILE_BYTES, _name, load_defaults, merge, unflatten
from v2m.config.values import parse_value
from v2m.domain.errors import ConfigError


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
            raise ConfigError(f"environment variable {_name(name)}: {exc.message}", exc.hint) from None
    return unflatten(flat)


def read_text(path: os.PathLike[str] | str) -> str | None:
    """A user config file's text (None if there is none), bounded and UTF-8."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}",
                          "check that it is a file you can read") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: more than {MAX_FILE_BYTES // 1024} KiB; no config is that big",
                          "fix the file or remove it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: not UTF-8 text (line {line})", "fix the file or remove it") from None


def load_file(path: os.PathLike[str] | str) -> dict[str, Any]:
    """Parse a user config file; a missing file is an empty config."""
    text = read_text(path)
    return {} if text is None else parse_text(text, path)


def parse_text(text: str, path: os.PathLike[str] | str) -> dict[str, Any]:
    """TOML text of the file at `path` as a tree; raises ConfigError naming the file."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply", "fix the file or remove it") from None
    except ValueError as exc:  # TOMLDecodeError, and ints longer than int() takes
        raise ConfigError(f"{path}: not valid TOML: {str(exc)[:200]}", "fix the file or remove it") from None


def load_effective(user_file: os.PathLike[str] | str,
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then the user's file, then V2M_* variables, each validated."""
    config = merge(load_defaults(), load_file(user_file), str(user_file))
    return merge(config, env_overrides(environ), "environment")
