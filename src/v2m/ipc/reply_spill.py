"""Replies too big for one frame (1 MiB): the daemon writes them to a private
file in its runtime directory and sends the file's path instead; the client
reads it back and removes it. Standard library only: the client uses it.

A transcript of hours of speech with word times can pass 1 MiB; before this,
such a reply was dropped and the client saw only a closed connection.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Any

from v2m.domain.errors import V2mError

PREFIX = "reply-"
KEEP_S = 600.0            # files no client came for are removed after this
MAX_READ_BYTES = 2**30


class ReplySpill:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, reply: dict[str, Any]) -> dict[str, Any]:
        """Store `reply`; return the small reply that points at it."""
        self._prune(time.time() - KEEP_S)
        body = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        path = self.directory / f"{PREFIX}{secrets.token_hex(8)}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        return {"status": reply.get("status", "success"),
                "data": {"reply_file": str(path), "reply_bytes": len(body)},
                "error": reply.get("error")}

    def clear(self) -> None:
        self._prune(float("inf"))

    def _prune(self, older_than: float) -> None:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.name.startswith(PREFIX) and entry.stat(follow_symlinks=False).st_mtime < older_than:
                    os.unlink(entry.path)
            except OSError:
                pass


def is_spilled(reply: dict[str, Any]) -> bool:
    data = reply.get("data")
    return isinstance(data, dict) and set(data) == {"reply_file", "reply_bytes"}


def read_spilled(reply: dict[str, Any], runtime_dir: Path) -> dict[str, Any]:
    """The full reply a spilled one points at: only a private file of ours,
    directly in our runtime directory, opened without following links."""
    path = Path(str(reply["data"]["reply_file"]))
    if path.parent != runtime_dir or not path.name.startswith(PREFIX):
        raise V2mError(f"the daemon pointed at {path}, outside {runtime_dir}; not reading it")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise V2mError(f"cannot read the daemon's reply {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise V2mError(f"the daemon's reply {path} is not a private file of yours; not reading it")
        body = fh.read(MAX_READ_BYTES)
    os.unlink(path)
    return json.loads(body)
