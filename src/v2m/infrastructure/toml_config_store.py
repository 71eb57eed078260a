"""ConfigStore over TOML files; writes go through tomlkit to keep comments."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Mapping

import tomlkit

from v2m.core import config_schema
from v2m.domain.errors import ConfigError


class TomlConfigStore:
    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self._path = path
        self._environ = environ
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        return str(self._path)

    def load(self) -> dict[str, Any]:
        return config_schema.load_effective(self._path, self._environ)

    def preview(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._apply(partial)[1]

    def update(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            text, config = self._apply(partial)
            _write_atomic(self._path, text)
        return config

    def _apply(self, partial: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The user file's new text and the effective config it gives, validated."""
        flat = config_schema.validate_partial(partial, f"update of {self._path}")
        document = self._read_document()
        for dotted, value in flat.items():
            *sections, leaf = dotted.split(".")
            table = document
            for name in sections:
                if name not in table:
                    table[name] = tomlkit.table()
                table = table[name]
            table[leaf] = value
        text = tomlkit.dumps(document)
        # Check the whole result (user file + env) before it touches disk.
        config = config_schema.merge(config_schema.load_defaults(), tomlkit.parse(text).unwrap(), self.path)
        config = config_schema.merge(config, config_schema.env_overrides(self._environ), "environment")
        return text, config

    def _read_document(self) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = tomlkit.document()
            doc.add(tomlkit.comment("v2m user settings; defaults: `v2m config show --defaults`"))
            return doc
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"{self._path}: not valid TOML: {exc}", "fix the file or remove it") from None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
