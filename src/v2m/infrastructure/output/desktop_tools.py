"""Running desktop command-line tools (xclip, wtype, notify-send, ...).

Every run checks the exit status and keeps stderr, so a failure is reported
with the tool's own words. stderr (and stdout unless captured) go to a
temporary file or /dev/null, never a pipe: clipboard owners such as xclip
and wl-copy fork a child that keeps serving the selection, and a pipe it
inherits would never close.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile

from v2m.domain.errors import OutputError

NO_SESSION = "no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)"


class TypingUnavailable(OutputError):
    """No tool can type in this session (none installed, or the compositor
    refuses virtual keyboards); nothing was typed."""


def session_kind() -> str:
    """"wayland", "x11" or "none", from the environment the daemon inherited."""
    if os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "x11"
    return "none"


def require_session() -> str:
    kind = session_kind()
    if kind == "none":
        raise OutputError(NO_SESSION)
    return kind


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


@dataclasses.dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def first_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else ""


def failure(tool: str, returncode: int, stderr: str) -> OutputError:
    detail = first_line(stderr)
    return OutputError(f"{tool} failed (exit code {returncode})" + (f": {detail}" if detail else ""))


def run(argv: list[str], *, data: bytes | None = None, timeout_s: float = 5.0, capture: bool = False,
        check: bool = True) -> Ran:
    """Run a tool to its end; raise OutputError if it is missing, times out
    or (with `check`) exits non-zero."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run(
                argv, input=data, stdin=None if data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=err,
                timeout=timeout_s, start_new_session=True)
        except FileNotFoundError:
            raise OutputError(f"{argv[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise OutputError(f"{argv[0]} did not finish within {timeout_s:g} s") from None
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    if check and proc.returncode != 0:
        raise failure(argv[0], proc.returncode, stderr)
    return Ran(proc.returncode, proc.stdout or b"", stderr)


def run_tool(argv: list[str], *, text: str | None = None, timeout_s: float = 5.0,
             capture: bool = False) -> str:
    """Run a tool; return its stdout when `capture`, raise OutputError on failure."""
    done = run(argv, data=text.encode("utf-8") if text is not None else None, timeout_s=timeout_s,
               capture=capture)
    return done.text if capture else ""
