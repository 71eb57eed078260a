"""ConfigStore over TOML files; writes go through tomlkit to keep comments."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any, Mapping

import tomlkit

from v2m.config import schema as config_schema
from v2m.config import sources as config_sources
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
        return config_sources.load_effective(self._path, self._environ)

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
        try:
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
            user = tomlkit.parse(text).unwrap()
        except RecursionError:
            raise ConfigError(f"{self._path}: not valid TOML: nested too deeply",
                              "fix the file or remove it") from None
        except (tomlkit.exceptions.TOMLKitError, ValueError, TypeError, KeyError) as exc:
            # e.g. a section of the user's file that is a value, not a table
            raise ConfigError(f"{self._path}: cannot apply the update: {str(exc)[:200]}",
                              "fix the file or remove it") from None
        # Check the whole result (user file + env) before it touches disk.
        config = config_schema.merge(config_schema.load_defaults(), user, self.path)
        config = config_schema.merge(config, config_sources.env_overrides(self._environ), "environment")
        return text, config

    def _read_document(self) -> tomlkit.TOMLDocument:
        # The standard parser first: bounded size, UTF-8, nesting and syntax
        # errors become ConfigErrors naming the file.
        text = config_sources.read_text(self._path)
        if text is None:
            doc = tomlkit.document()
            doc.add(tomlkit.comment("v2m user settings; defaults: `v2m config show --defaults`"))
            return doc
        config_sources.parse_text(text, self._path)
        try:
            return tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"{self._path}: not valid TOML: {exc}", "fix the file or remove it") from None


def _write_atomic(path: Path, text: str) -> None:
    """Replace the file's contents at once: a temp file beside it, then a rename.

    A symlinked config file (dotfiles managers do this) is written through:
    the link stays, its target gets the new text and keeps its mode.
    """
    data = text.encode("utf-8")
    target = Path(os.path.realpath(path))
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".config.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(target.parent)
    except OSError as exc:
        raise _write_error(path, target, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, target: Path, exc: OSError) -> ConfigError:
    where = str(path) if target == path else f"{path} (a link to {target})"
    env_tip = "or set it for the daemon in the environment instead (V2M_SECTION__KEY=value)"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = f"the disk holding {target.parent} is full: free some space and try again"
    elif exc.errno == errno.EROFS:
        hint = f"{target.parent} is on a read-only file system: make it writable, {env_tip}"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        hint = f"make {target.parent} and the file writable by you (check owner and mode), {env_tip}"
    else:
        hint = f"check {target.parent} and try again"
    return ConfigError(f"cannot write {where}: {exc.strerror or exc}", hint)
