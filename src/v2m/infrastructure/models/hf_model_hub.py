"""ModelHub over huggingface_hub: HF_ENDPOINT (mirrors) and HF_TOKEN are
honoured; the hub's metadata gives sizes and hashes.

Resuming: hf_hub_download 2.4 retries a dropped connection within one call,
but deletes its partial file when the call fails, so a pull killed by a
flaky network or Ctrl+C would start from zero. We keep our own NAME.part
in the staging directory and hand its size to huggingface_hub's http_get
(same headers, proxies, retries and progress bar), which asks for the rest
with a Range request.

A hostile or broken hub cannot hang a pull or fill the disk: huggingface_hub
only times out a read that gets nothing for 10 s, so a server dripping a
byte a second would never end. The hub's HTTP connections are guarded (see
StallLimits), and a file is never written past the size the hub announced.
HF_TOKEN is not sent to another origin when the hub redirects a download (to
its CDN): httpx drops the Authorization header then (tests/adversarial).
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from v2m.application.model_types import RemoteFile, RemoteModel
from v2m.domain.errors import ModelError

log = logging.getLogger(__name__)
DEFAULT_ENDPOINT = "https://huggingface.co"
STALLED = "v2m: connection stalled"


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


@dataclass(frozen=True)
class StallLimits:
    """While waiting for a reply, a connection must bring `min_bytes` every `window_s`
    (or the whole reply, if smaller) or it is cut: about 2 KiB/s by default."""

    window_s: float = 30.0
    min_bytes: int = 64 * 1024


class HfModelHub:
    def __init__(self, progress: bool | None = None, stall: StallLimits = StallLimits()) -> None:
        self._endpoint = endpoint()
        # A progress bar on a terminal; quiet output in scripts and logs.
        self._progress = sys.stderr.isatty() if progress is None else progress
        self._stall = stall

    def resolve(self, repo_id: str, revision: str) -> RemoteModel:
        from huggingface_hub import HfApi

        _guard_connections(self._stall)
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
        if os.path.exists(part) and os.path.getsize(part) > size:
            os.unlink(part)  # longer than the file: nothing in it can be resumed
        (enable_progress_bars if self._progress else disable_progress_bars)()
        url = hf_hub_url(repo_id, filename, revision=commit, endpoint=self._endpoint)
        _guard_connections(self._stall)
        try:
            with open(part, "ab") as fh:
                http_get(url, _Capped(fh, size), resume_size=fh.tell(), headers=build_hf_headers(),
                         expected_size=size, displayed_filename=filename)
        except _TooLong:
            os.unlink(part)
            raise ModelError(f"{self._endpoint} sent more than the {size} bytes it announced for "
                             f"{repo_id}/{filename}", "check HF_ENDPOINT if you use a mirror") from None
        except Exception as exc:
            raise self._error(exc, f"{repo_id}/{filename}") from None
        os.replace(part, final)
        return final

    def _error(self, exc: Exception, what: str) -> ModelError:
        from huggingface_hub import errors

        if STALLED in str(exc):
            return ModelError(f"{self._endpoint} stalled while sending {what}: less than "
                              f"{self._stall.min_bytes // 1024} KiB in {self._stall.window_s:g} s",
                              "check your network or proxy, or set HF_ENDPOINT to a reachable mirror; "
                              "an interrupted pull resumes when run again")
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


class _TooLong(Exception):
    pass


class _Capped:
    """The file http_get writes to, refusing bytes past the announced size."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh, self._size = fh, size

    def write(self, data: bytes) -> int:
        if self._fh.tell() + len(data) > self._size:
            raise _TooLong()
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:  # tell, seek, truncate for a restarted download
        return getattr(self._fh, name)


_guarded: StallLimits | None = None


def _guard_connections(limits: StallLimits) -> None:
    """Make huggingface_hub's shared httpx client cut stalled connections (once per limits)."""
    global _guarded
    if _guarded == limits:
        return
    try:
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils._http import default_client_factory
    except ImportError:  # an older huggingface_hub: no httpx client to guard
        log.debug("huggingface_hub has no client factory; downloads are not guarded")
        return

    def factory() -> Any:
        client = default_client_factory()  # the hub's own hooks, redirects and env proxies
        # httpx offers no hook below the transport: wrap each connection pool's
        # network backend (httpcore's public NetworkBackend interface).
        for transport in (client._transport, *client._mounts.values()):
            pool = getattr(transport, "_pool", None)
            if pool is not None and hasattr(pool, "_network_backend"):
                pool._network_backend = _GuardedBackend(pool._network_backend, limits)
        return client

    set_client_factory(factory)
    _guarded = limits


class _GuardedBackend:
    def __init__(self, backend: Any, limits: StallLimits) -> None:
        self._backend, self._limits = backend, limits

    def connect_tcp(self, *args: Any, **kwargs: Any) -> "_GuardedStream":
        return _GuardedStream(self._backend.connect_tcp(*args, **kwargs), self._limits)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> "_GuardedStream":
        return _GuardedStream(self._backend.connect_unix_socket(*args, **kwargs), self._limits)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _GuardedStream:
    """A connection whose reads share one window per request: `min_bytes` per `window_s`."""

    def __init__(self, stream: Any, limits: StallLimits) -> None:
        self._stream, self._limits = stream, limits
        self._restart()

    def _restart(self) -> None:
        self._since, self._got = time.monotonic(), 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore2

        left = self._since + self._limits.window_s - time.monotonic()
        wait = left if timeout is None else min(timeout, left)
        try:
            if left <= 0:
                raise httpcore2.ReadTimeout()
            data = self._stream.read(max_bytes, wait)
        except httpcore2.ReadTimeout:
            if wait != left:
                raise  # the caller's own read timeout, which huggingface_hub retries
            # Not a timeout, which huggingface_hub would retry 5 times, each with a fresh window.
            raise httpcore2.ReadError(f"{STALLED}: less than {self._limits.min_bytes} bytes in "
                                      f"{self._limits.window_s:g} s") from None
        self._got += len(data)
        if self._got >= self._limits.min_bytes:
            self._restart()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._restart()  # a new request: its reply gets a fresh window
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> "_GuardedStream":
        return _GuardedStream(self._stream.start_tls(*args, **kwargs), self._limits)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
