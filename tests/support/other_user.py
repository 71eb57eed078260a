"""Run a command as another, unprivileged user (uid/gid 65534, "nobody"),
the way a second account on a shared machine would: for tests of what v2m
trusts. The tests run as root, so setpriv can drop to that uid."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

UID = GID = 65534


def argv(*command: str) -> list[str]:
    return ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups", "--", *command]


def run(*command: str, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv(*command), timeout=timeout, capture_output=True, text=True, **kwargs)


def popen(*command: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(argv(*command), **kwargs)


def shared_tmp() -> Path:
    """A fresh world-traversable directory (like /tmp itself) in which both
    users can create entries; pytest's own tmp dirs are 0700 to root."""
    d = Path(tempfile.mkdtemp(prefix="v2m-shared-"))
    os.chmod(d, 0o1777)
    return d
