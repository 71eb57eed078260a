"""Whether the server at the socket path is our own daemon. Standard library
only: it runs on every `v2m toggle`.

Another account can create the runtime directory first (the fallback
/tmp/v2m-UID is in a shared /tmp) and listen on the socket path. Before
connecting, the directory and the socket must be ours, private and not
symlinks, as OpenSSH requires of its files; that gives a clear message.
After connecting, SO_PEERCRED must name our uid: that also closes the race
between the path checks and connect(), since the listener's uid is what
matters. The C fast client (build/fastclient/v2m.c) makes the same checks
with the same messages.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import struct
from pathlib import Path

from v2m.domain.errors import DaemonNotRunning, InsecureRuntimeDir, V2mError

HINT = "remove it, or set XDG_RUNTIME_DIR to a directory you own"
_UCRED = struct.Struct("3i")  # pid, uid, gid
_MISSING = (errno.ENOENT, errno.ENOTDIR)


def _refuse(path: Path | str, why: str) -> InsecureRuntimeDir:
    return InsecureRuntimeDir(f"refusing {path}: {why}", HINT)


def _check_entry(path: Path, st: os.stat_result, is_kind, kind: str) -> None:
    uid = os.getuid()
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(path, "it is a symbolic link")
    if not is_kind(st.st_mode):
        raise _refuse(path, f"it is not a {kind}")
    if st.st_uid != uid:
        raise _refuse(path, f"it is owned by uid {st.st_uid}, not by you (uid {uid})")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise _refuse(path, f"it is writable by other users (mode {mode:04o})")


def _lstat(path: Path, sock_path: Path) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in _MISSING:
            raise DaemonNotRunning(str(sock_path)) from None
        raise V2mError(f"cannot connect to {sock_path}: {exc.strerror}") from None


def check_socket_path(sock_path: Path) -> None:
    """Raise DaemonNotRunning if the directory or socket is missing, and
    InsecureRuntimeDir if either is not ours alone."""
    directory = sock_path.parent
    _check_entry(directory, _lstat(directory, sock_path), stat.S_ISDIR, "directory")
    _check_entry(sock_path, _lstat(sock_path, sock_path), stat.S_ISSOCK, "socket")


def check_peer(sock: socket.socket, sock_path: Path) -> None:
    """Raise InsecureRuntimeDir unless the connected server runs as our uid."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    _pid, peer_uid, _gid = _UCRED.unpack(raw)
    uid = os.getuid()
    if peer_uid != uid:
        raise _refuse(sock_path, f"its server runs as uid {peer_uid}, not as you (uid {uid})")
