"""ModelHub over huggingface_hub: HF_ENDPOINT (mirrors) and HF_TOKEN are
honoured; the hub's metadata gives sizes and hashes.

Resuming: hf_hub_download 2.4 retries a dropped connection within one call,
but deletes its partial file when the call fails, so a pull killed by a
flaky network or Ctrl+C would start from zero. We keep our own NAME.part
in the staging directory and hand its size to huggingface_hub's http_get
(same headers, proxies, retries and progress bar), which asks for the rest
with a Range request.
"""

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

    def download(self, repo_id: str, commit: str, filename: str, dest_dir: str, size: int) -> str:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.file_download import http_get
        from huggingface_hub.utils import build_hf_headers, disable_progress_bars, enable_progress_bars

        final = os.path.join(dest_dir, filename)
        if os.path.exists(final):
            return final  # finished by an earlier attempt (and verified after it)
        part = final + ".part"
        (enable_progress_bars if self._progress else disable_progress_bars)()
        url = hf_hub_url(repo_id, filename, revision=commit, endpoint=self._endpoint)
        try:
            with open(part, "ab") as fh:
                http_get(url, fh, resume_size=fh.tell(), headers=build_hf_headers(), expected_size=size,
                         displayed_filename=filename)
        except Exception as exc:
            raise self._error(exc, f"{repo_id}/{filename}") from None
        os.replace(part, final)
        return final

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
