"""Value types shared by the model-management ports and use cases."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    sha256: str | None = None     # LFS files: the hub's sha256
    blob_sha1: str | None = None  # regular git files: the git blob id


@dataclasses.dataclass(frozen=True)
class RemoteModel:
    repo_id: str
    revision: str
    commit: str
    files: tuple[RemoteFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclasses.dataclass(frozen=True)
class InstalledModel:
    name: str
    path: str
    size_bytes: int
    manifest: dict
