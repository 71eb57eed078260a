"""XDG paths for v2m, and the checks that keep the runtime directory private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from v2m.domain.errors import InsecureRuntimeDir

APP = "v2m"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # The spec says relative values are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if base and os.path.isabs(base):
        return Path(base) / APP
    return Path(f"/tmp/{APP}-{os.getuid()}")


def socket_path() -> Path:
    return runtime_dir() / f"{APP}.sock"


def lock_path() -> Path:
    return runtime_dir() / f"{APP}.lock"


def config_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP / "config.toml"


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def models_dir() -> Path:
    return data_dir() / "models"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / APP



def ensure_private_dir(path: Path) -> Path:
    """Create `path` as 0700, or check that an existing one is ours and private.

    A directory owned by someone else (say, a pre-created /tmp/v2m-UID) is
    refused rather than repaired: its owner could swap our socket. One of
    ours that was left open to others is tightened, and then refused if
    anything in it belongs to someone else: they could have planted it
    (a lock file linked to ~/.bashrc, a socket of theirs).
    """
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise InsecureRuntimeDir(f"{path} is not a directory", "remove it and start again")
    if st.st_uid != os.getuid():
        raise InsecureRuntimeDir(
            f"{path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()})",
            "remove it, or set XDG_RUNTIME_DIR to a directory you own",
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)  # ours, so tightening it is safe
        if stat.S_IMODE(st.st_mode) & 0o022:
            _refuse_foreign_entries(path)
    return path


def _refuse_foreign_entries(path: Path) -> None:
    for entry in os.scandir(path):
        owner = entry.stat(follow_symlinks=False).st_uid
        if owner != os.getuid():
            raise InsecureRuntimeDir(
                f"{entry.path} belongs to uid {owner}, in a directory that was open to other users",
                f"remove it (`rm {entry.path}`), then start again")
