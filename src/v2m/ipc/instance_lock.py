"""One daemon per user: an flock on a lock file in the runtime directory.

The lock dies with its process, so a daemon killed with SIGKILL never leaves
a lock that blocks the next start. We never look processes up by name.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from v2m.domain.errors import DaemonAlreadyRunning, InsecureRuntimeDir


class InstanceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        while True:
            fd = _open_private(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                raise DaemonAlreadyRunning(pid, str(self.path)) from None
            # A daemon that was shutting down may have unlinked the file we
            # opened; then our lock guards nothing, so start over on the new path.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock, so no one can lock the old inode.
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


def _open_private(path: Path) -> int:
    """Open the lock file as OpenSSH opens its files: never through a symlink,
    and only if it is a plain file of ours with no other names (a hard link
    to ~/.bashrc would get our pid written into it)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InsecureRuntimeDir(f"{path} is a symbolic link", f"remove it (`rm {path}`)") from None
        raise InsecureRuntimeDir(f"cannot open the lock file {path}: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_nlink != 1:
        os.close(fd)
        raise InsecureRuntimeDir(f"{path} is not a private file of yours (owner uid {st.st_uid}, "
                                 f"{st.st_nlink} links, mode {stat.filemode(st.st_mode)})",
                                 f"remove it (`rm {path}`)")
    return fd


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (ValueError, OSError):
        return None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)
