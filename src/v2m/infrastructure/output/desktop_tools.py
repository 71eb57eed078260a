"""Running desktop command-line tools (xclip, wtype, notify-send, ...)."""

from __future__ import annotations

import os
import shutil
import subprocess

from v2m.domain.errors import OutputError


def session_kind() -> str:
    """"wayland", "x11" or "none", from the environment the daemon inherited."""
    if os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "x11"
    return "none"


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def run_tool(argv: list[str], *, text: str | None = None, timeout_s: float = 5.0,
             capture: bool = False) -> str:
    """Run a tool; return its stdout when `capture`, raise OutputError on failure.

    Without `capture`, stdout goes to /dev/null: clipboard owners such as
    xclip fork a child that keeps serving the selection, and a pipe they
    inherit would never close.
    """
    try:
        proc = subprocess.run(
            argv, input=text.encode("utf-8") if text is not None else None,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
            stdin=None if text is not None else subprocess.DEVNULL,
            timeout=timeout_s, start_new_session=True)
    except FileNotFoundError:
        raise OutputError(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise OutputError(f"{argv[0]} did not finish within {timeout_s:.0f}s") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip() if capture else ""
        raise OutputError(f"{argv[0]} failed with exit code {proc.returncode}"
                          + (f": {detail}" if detail else ""))
    return proc.stdout.decode("utf-8", errors="replace") if capture else ""
