"""ModelHub over huggingface_hub: HF_ENDPOINT (mirrors) and HF_TOKEN are
honoured; downloads resume; the hub's metadata gives sizes and hashes."""

from __future__ import annotations

import errno
import logging
import os
import sys

from v2m.application.model_types import RemoteFile, RemoteModel
from v2m.domain.errors import ModelError

log = logging.getLogger(__name__)
DEFAULT_ENDPOINT = "https://huggingface.co"


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


class HfModelHub:
    def __init__(self, progress: bool | None = None) -> None:
        self._endpoint = endpoint()
        # A progress bar on a terminal; quiet output in scripts and logs.
        self._progress = sys.stderr.isatty() if progress is None else progress

    def resolve(self, repo_id: str, revision: str) -> RemoteModel:
        from huggingface_hub import HfApi

        try:
            info = HfApi(endpoint=self._endpoint).model_info(repo_id, revision=revision, files_metadata=True)
        except Exception as exc:
            raise self._error(exc, f"{repo_id}@{revision}") from None
        files = tuple(
            RemoteFile(s.rfilename, int(s.lfs.size if s.lfs else s.size or 0),
                       sha256=s.lfs.sha256 if s.lfs else None,
                       blob_sha1=None if s.lfs else s.blob_id)
            for s in info.siblings or [])
        return RemoteModel(repo_id, revision, info.sha, files)

    def download(self, repo_id: str, commit: str, filename: str, dest_dir: str) -> str:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

        (enable_progress_bars if self._progress else disable_progress_bars)()
        try:
            return hf_hub_download(repo_id, filename, revision=commit, local_dir=dest_dir,
                                   endpoint=self._endpoint)
        except Exception as exc:
            raise self._error(exc, f"{repo_id}/{filename}") from None

    def _error(self, exc: Exception, what: str) -> ModelError:
        from huggingface_hub import errors

        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return ModelError(f"disk full while downloading {what}", "free some space and pull again")
        if isinstance(exc, errors.RevisionNotFoundError):
            return ModelError(f"{what}: no such revision on {self._endpoint}", "check --revision")
        if isinstance(exc, (errors.RepositoryNotFoundError, errors.EntryNotFoundError)):
            return ModelError(f"{what} was not found on {self._endpoint}",
                              "check HF_ENDPOINT if you use a mirror")
        log.debug("download error", exc_info=exc)
        return ModelError(f"cannot download {what} from {self._endpoint}: {type(exc).__name__}: {exc}",
                          "check your network or proxy, or set HF_ENDPOINT to a reachable mirror; "
                          "an interrupted pull resumes when run again")
