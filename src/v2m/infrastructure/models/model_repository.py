"""Installed models under $XDG_DATA_HOME/v2m/models/NAME/, installed atomically.

Downloads land in models/.staging/NAME-COMMIT/ (kept between attempts, so an
interrupted pull resumes), are verified, then renamed into place: a model
directory either is complete and verified, or does not exist.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from v2m.application.model_types import InstalledModel, RemoteFile
from v2m.domain.errors import ModelError
from v2m.domain.model_catalog import check_model_name, is_model_name
from v2m.infrastructure.models.model_locator import is_model_dir

MANIFEST = "v2m-model.json"
HEADROOM_BYTES = 50 * 2**20


class FsModelRepository:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._staging_root = root / ".staging"

    def installed(self) -> list[InstalledModel]:
        if not self.root.is_dir():
            return []
        # Directories the user made by hand with names v2m could not address are left out.
        return [m for p in sorted(self.root.iterdir()) if is_model_name(p.name)
                if (m := self.get(p.name)) is not None]

    def _dir(self, name: str) -> Path:
        """models/NAME; the manager checked the name, this is a second line."""
        return self.root / check_model_name(name)

    def get(self, name: str) -> InstalledModel | None:
        path = self._dir(name)
        if not is_model_dir(path):
            return None
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            manifest = {"name": name, "source": "unknown"}
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        return InstalledModel(name, str(path), size, manifest)

    def staging_dir(self, name: str, commit: str, total_bytes: int) -> str:
        staging = self._staging_root / f"{self._dir(name).name}-{commit[:12]}"
        staging.mkdir(parents=True, exist_ok=True)
        have = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
        free = shutil.disk_usage(staging).free
        if free < total_bytes - have + HEADROOM_BYTES:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(f"not enough disk space in {self.root}: {name} needs "
                             f"{(total_bytes - have) / 2**20:.0f} MiB, {free / 2**20:.0f} MiB free",
                             "free some space and pull again")
        return str(staging)

    def verify(self, path: str, expected: RemoteFile) -> None:
        size = os.path.getsize(path)
        digest = _sha256(path) if expected.sha256 else _git_blob_sha1(path) if expected.blob_sha1 else None
        want = expected.sha256 or expected.blob_sha1
        if size != expected.size or (want and digest != want):
            os.unlink(path)  # so the next pull fetches it again instead of resuming garbage
            raise ModelError(f"{expected.name} is corrupted: got {size} bytes with hash {digest}, the hub "
                             f"says {expected.size} bytes with hash {want}",
                             "pull again; if it keeps failing, check your mirror or proxy")

    def install(self, name: str, staging: str, manifest: dict[str, Any], *, replace: bool) -> str:
        staged = Path(staging)
        _write_json(staged / MANIFEST, manifest)
        return self._swap_in(name, staged, replace)

    def install_copy(self, name: str, source: str, manifest: dict[str, Any], *, replace: bool) -> str:
        self._staging_root.mkdir(parents=True, exist_ok=True)
        staged = self._staging_root / f"{self._dir(name).name}-import-{os.getpid()}-{time.time_ns()}"
        try:
            shutil.copytree(source, staged, ignore=shutil.ignore_patterns(".*", MANIFEST))
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise _disk_error(exc, self.root) from None
        _write_json(staged / MANIFEST, manifest)
        return self._swap_in(name, staged, replace)

    def _swap_in(self, name: str, staged: Path, replace: bool) -> str:
        target = self._dir(name)
        old = None
        if target.exists():
            if not replace:
                shutil.rmtree(staged, ignore_errors=True)
                raise ModelError(f"{target} already exists", "pass --force to replace it")
            old = self._staging_root / f"{name}-old-{time.time_ns()}"
            os.rename(target, old)
        os.rename(staged, target)  # same filesystem: atomic
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return str(target)

    def remove(self, name: str) -> None:
        target = self._dir(name)
        trash = self._staging_root / f"{name}-rm-{time.time_ns()}"
        self._staging_root.mkdir(parents=True, exist_ok=True)
        os.rename(target, trash)  # gone from view at once, even if deleting takes long
        shutil.rmtree(trash, ignore_errors=True)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(2**20):
            h.update(chunk)
    return h.hexdigest()


def _git_blob_sha1(path: str) -> str:
    h = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(2**20):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2))


def _disk_error(exc: OSError, where: Path) -> ModelError:
    if exc.errno == errno.ENOSPC:
        return ModelError(f"disk full while installing into {where}", "free some space and try again")
    return ModelError(f"cannot install into {where}: {exc}")
