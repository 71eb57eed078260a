"""The server's bearer token: one per user, in $XDG_CONFIG_HOME/v2m/server-token.

Made once, 32 random bytes (URL-safe base64), mode 0600. It is written to a
temporary file opened with O_EXCL|O_NOFOLLOW, then hard-linked into place,
which fails if anything (a file, a symlink) is already there: a reader never
sees a half-written token, and a squatter's symlink is never followed. A
token file that is not a regular file of ours, private to us, is refused.
Standard library only: `v2m serve token` stays fast.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from v2m.domain.errors import V2mError

MAX_TOKEN_BYTES = 4096


class TokenFileError(V2mError):
    """The token file is unsafe or unreadable."""


def read_or_create(path: Path) -> str:
    """The token at `path`, made first if there is none."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = _read(path)
    if token is not None:
        return token
    fresh = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(fresh + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    token = _read(path)
    if token is None:
        raise TokenFileError(f"{path} vanished while it was being made", "run the command again")
    return token


def _read(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink
        raise TokenFileError(f"cannot open {path}: {exc.strerror}",
                             "remove it; v2m makes a new token on the next start") from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(file.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise TokenFileError(f"{path} is not a private file of yours (mode {stat.filemode(st.st_mode)})",
                                 "remove it; v2m makes a new token on the next start")
        token = file.read(MAX_TOKEN_BYTES + 1).decode("ascii", "replace").strip()
    if not token or len(token) > MAX_TOKEN_BYTES or not token.isprintable() or " " in token:
        raise TokenFileError(f"{path} does not hold a token", "remove it; v2m makes a new one")
    return token
