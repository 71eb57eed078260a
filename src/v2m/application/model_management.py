"""Model management: pull, list, remove, locate and import Whisper weights."""

from __future__ import annotations

import fnmatch
import logging
import re
import time
from typing import Any

from v2m.application.model_types import InstalledModel, RemoteModel
from v2m.application.ports import ModelHub, ModelRepository, ModelValidator
from v2m.domain.errors import ModelError
from v2m.domain.model_catalog import CATALOG, check_model_name, lookup

log = logging.getLogger(__name__)

# The files faster-whisper needs from a CTranslate2 Whisper repository.
MODEL_FILES = ("model.bin", "config.json", "preprocessor_config.json", "tokenizer.json", "vocabulary.*")
REQUIRED = ("model.bin", "config.json")
# A hub commit is a hex sha; it names the staging directory, so nothing else is taken.
COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")


def wanted(filename: str) -> bool:
    """A model file at the top of the repository ("*" in fnmatch also matches "/")."""
    if "/" in filename or "\\" in filename or filename.startswith("."):
        return False
    return any(fnmatch.fnmatch(filename, pattern) for pattern in MODEL_FILES)


class ModelManager:
    def __init__(self, hub: ModelHub, repo: ModelRepository, validator: ModelValidator,
                 bundled: InstalledModel | None = None) -> None:
        self._hub, self._repo, self._validator = hub, repo, validator
        self._bundled = bundled  # the default model shipped with v2m, used when not installed

    def pull(self, name: str, revision: str = "main", *, force: bool = False) -> dict[str, Any]:
        entry = lookup(check_model_name(name))
        current = self._repo.get(name)
        if current is not None and not force:
            return {"name": name, "path": current.path, "already_installed": True,
                    "commit": current.manifest.get("commit")}
        remote = self._hub.resolve(entry.repo_id, revision)
        if not isinstance(remote.commit, str) or not COMMIT.fullmatch(remote.commit):
            raise ModelError(f"{entry.repo_id}@{revision}: the hub gave no valid commit "
                             f"({str(remote.commit)[:80]!r})", "check HF_ENDPOINT if you use a mirror")
        files = tuple(f for f in remote.files if wanted(f.name))
        missing = [r for r in REQUIRED if r not in {f.name for f in files}]
        if missing:
            raise ModelError(f"{entry.repo_id}@{remote.commit[:12]} has no {', '.join(missing)}",
                             "it is not a CTranslate2 Whisper model")
        remote = RemoteModel(remote.repo_id, revision, remote.commit, files)
        staging = self._repo.staging_dir(name, remote.commit, remote.total_bytes)
        for f in files:
            path = self._hub.download(entry.repo_id, remote.commit, f.name, staging, f.size)
            self._repo.verify(path, f)  # huggingface_hub does not check content hashes
        path = self._repo.install(name, staging, self._manifest(name, remote), replace=force)
        return {"name": name, "path": path, "already_installed": False, "commit": remote.commit,
                "bytes": remote.total_bytes}

    @staticmethod
    def _manifest(name: str, remote: RemoteModel) -> dict[str, Any]:
        return {"name": name, "source": "hub", "repo_id": remote.repo_id, "revision": remote.revision,
                "commit": remote.commit, "installed_at": time.time(),
                "files": {f.name: {"size": f.size, "sha256": f.sha256, "blob_sha1": f.blob_sha1}
                          for f in remote.files}}

    def list(self, in_use: str) -> list[dict[str, Any]]:
        """Every catalog entry, plus models installed under other names or by path."""
        installed = {m.name: m for m in self._repo.installed()}
        if self._bundled is not None:
            installed.setdefault(self._bundled.name, self._bundled)
        rows = []
        for entry in CATALOG.values():
            model = installed.pop(entry.name, None)
            rows.append(self._row(entry.name, model, entry.approx_size_mb * 10**6, in_use,
                                  repo_id=entry.repo_id))
        for model in installed.values():
            rows.append(self._row(model.name, model, model.size_bytes, in_use))
        if in_use not in {r["name"] for r in rows}:
            rows.append({"name": in_use, "installed": None, "bundled": False, "size_bytes": None, "in_use": True,
                         "path": in_use, "commit": None, "repo_id": None, "source": "config"})
        return rows

    @staticmethod
    def _row(name: str, model: InstalledModel | None, size: int, in_use: str,
             repo_id: str | None = None) -> dict[str, Any]:
        manifest = model.manifest if model else {}
        return {"name": name, "installed": model is not None, "bundled": manifest.get("source") == "bundled",
                "size_bytes": model.size_bytes if model else size, "in_use": name == in_use,
                "path": model.path if model else None, "commit": manifest.get("commit"),
                "repo_id": manifest.get("repo_id", repo_id), "source": manifest.get("source")}

    def is_bundled(self, name: str) -> bool:
        """`name` is served by the copy shipped with v2m (none installed under it)."""
        return self._bundled is not None and name == self._bundled.name and self._repo.get(name) is None

    def remove(self, name: str, in_use: str | None = None, *, force: bool = False) -> str:
        """Remove an installed model. The one in use (`in_use`) only with `force`,
        unless the bundled copy of that name takes over."""
        model = self._repo.get(check_model_name(name))
        if model is None:
            if self.is_bundled(name):
                raise ModelError(f"{name} is bundled (cannot be removed): it ships with v2m",
                                 "it takes no space under the models directory")
            raise ModelError(f"model {name!r} is not installed", "`v2m models list` shows what is")
        fallback = self._bundled is not None and name == self._bundled.name
        if name == in_use and not force and not fallback:
            raise ModelError(f"{name} is the model in use (transcription.model); without it the daemon "
                             "cannot start", "switch first (`v2m config set transcription.model OTHER`), "
                             "or pass --force")
        self._repo.remove(name)
        return model.path

    def path(self, name: str) -> str:
        model = self._repo.get(check_model_name(name))
        if model is not None:
            return model.path
        if self.is_bundled(name):
            return self._bundled.path
        raise ModelError(f"model {name!r} is not installed", f"run `v2m models pull {name}`")

    def import_dir(self, source: str, name: str, *, force: bool = False) -> str:
        check_model_name(name, "pass --name NAME to choose a name for it")
        if self._repo.get(name) is not None and not force:
            raise ModelError(f"a model named {name!r} is already installed", "pass --force to replace it")
        self._validator.check_loads(source)
        manifest = {"name": name, "source": "import", "imported_from": source, "installed_at": time.time()}
        return self._repo.install_copy(name, source, manifest, replace=force)
