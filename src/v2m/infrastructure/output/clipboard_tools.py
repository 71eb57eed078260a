"""The clipboard tools, one backend each: wl-copy/wl-paste (Wayland), xclip
or xsel (X11). A backend reads the clipboard as one type, lists its types
(where the tool can), and starts an owner: a process serving the selection.

An owner is `persistent` (the tool forks and serves until another program
takes the clipboard) or `served` (our child, in the foreground, that can
tell when someone has read it: xclip -verbose prints a line per request
served; for wl-copy the bytes it has written, from /proc/PID/io, grow by the
text's length per request). Paste uses a served owner to put the previous
clipboard back as soon as the app has read the text, not before.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
import threading
import time
from typing import IO

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.desktop_tools import failure, have, require_session, run

# Types that are plain text, whatever the tool calls them.
TEXT_TYPES = ("text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT", "COMPOUND_TEXT")
# X11 targets that describe the selection rather than hold content.
META_TYPES = frozenset({"TARGETS", "TIMESTAMP", "MULTIPLE", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION",
                        "INSERT_PROPERTY"})
# What a tool says when there is nothing (of that type) to read.
EMPTY = ("No selection", "Nothing is copied", "No suitable type", "not available")


def _reap(proc: subprocess.Popen) -> None:
    threading.Thread(target=proc.wait, name="v2m-clipboard-owner", daemon=True).start()


class Owner:
    """What serves our text; `served` owners are our children."""

    def __init__(self, tool: str, proc: subprocess.Popen | None = None, err: IO[bytes] | None = None,
                 size: int = 1) -> None:
        self.tool, self.proc, self._err = tool, proc, err
        self._need = max(1, size)  # progress made by one read
        self._mark: int | None = None

    def check(self) -> None:
        """Raise the tool's own error if a served owner has died."""
        if self.proc is not None and self.proc.poll() is not None:
            stderr = ""
            if self._err is not None:
                self._err.seek(0)
                stderr = self._err.read().decode("utf-8", errors="replace")
            raise failure(self.tool, self.proc.returncode, stderr or "it exited")

    def progress(self) -> int | None:
        """A count that grows with every read served; None where unknown."""
        return None

    def mark(self) -> None:
        self._mark = self.progress()

    def read_since_mark(self) -> bool | None:
        """Whether someone has read the clipboard since `mark()`; None: unknown."""
        now = self.progress()
        if now is None or self._mark is None:
            return None
        return now - self._mark >= self._need

    def end(self, timeout_s: float = 1.0) -> None:
        """After another owner has taken over: wait for this one to leave."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._close()

    def release(self) -> None:
        """Stop serving: the clipboard is left empty, as it was before."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
        self.end()

    def detach(self) -> None:
        """Keep serving (until someone else takes the clipboard)."""
        if self.proc is not None:
            _reap(self.proc)
        self._close()

    def _close(self) -> None:
        if self._err is not None:
            self._err.close()
            self._err = None


class _ByteCountOwner(Owner):
    """wl-copy: the bytes it wrote, from /proc/PID/io (its only writes after
    setting the selection are the pastes it serves)."""

    def progress(self) -> int | None:
        assert self.proc is not None
        try:
            with open(f"/proc/{self.proc.pid}/io") as io:
                return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))
        except (OSError, StopIteration, ValueError):
            return None


class _LineCountOwner(Owner):
    """xclip -verbose: "Waiting for selection request number N" after each
    request served (TARGETS queries are not counted)."""

    _LINE = re.compile(rb"selection request number (\d+)")

    def __init__(self, tool: str, proc: subprocess.Popen) -> None:
        super().__init__(tool, proc)
        self._count = 0
        self._output: list[bytes] = []
        threading.Thread(target=self._read, name="v2m-xclip-verbose", daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._output.append(line)
            match = self._LINE.search(line)
            if match:
                self._count = int(match.group(1)) - 1

    def progress(self) -> int | None:
        return self._count

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise failure(self.tool, self.proc.returncode, b"".join(self._output[-3:]).decode(errors="replace"))


class Backend:
    tool = ""
    text_type = ""          # the type our text is written and read back as
    lists_types = True

    def types(self) -> list[str]:
        """The types offered now ([] when the clipboard is empty)."""
        raise NotImplementedError

    def read(self, mime: str, timeout_s: float = 2.0) -> bytes | None:
        """The clipboard as `mime`; None when there is nothing of that type."""
        done = run(self._read_argv(mime), capture=True, timeout_s=timeout_s, check=False)
        if done.returncode == 0:
            return done.stdout
        if any(mark in done.stderr for mark in EMPTY):
            return None
        raise failure(self._read_argv(mime)[0], done.returncode, done.stderr)

    def own(self, data: bytes, mime: str, *, served: bool = False) -> Owner:
        argv = self._own_argv(mime, served)
        if not served:
            run(argv, data=data, timeout_s=5.0)
            return Owner(self.tool)
        return self._serve(argv, data)

    def _serve(self, argv: list[str], data: bytes) -> Owner:
        err = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
        except FileNotFoundError:
            err.close()
            raise OutputError(f"{argv[0]} is not installed") from None
        _feed(proc, data)
        return _ByteCountOwner(self.tool, proc, err, size=len(data))

    def clear(self) -> None:
        """Empty the clipboard (only needed where owners fork: xsel)."""

    def _read_argv(self, mime: str) -> list[str]:
        raise NotImplementedError

    def _own_argv(self, mime: str, served: bool) -> list[str]:
        raise NotImplementedError


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):  # it died: check() reports why
        proc.stdin.write(data)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()


class WlClipboard(Backend):
    tool, text_type = "wl-copy", "text/plain;charset=utf-8"

    def types(self) -> list[str]:
        done = run(["wl-paste", "--list-types"], capture=True, timeout_s=2.0, check=False)
        if done.returncode != 0:
            if any(mark in done.stderr for mark in EMPTY):
                return []
            raise failure("wl-paste", done.returncode, done.stderr)
        return [t for t in done.text.splitlines() if t.strip()]

    def _read_argv(self, mime: str) -> list[str]:
        return ["wl-paste", "--no-newline", "--type", mime]

    def _own_argv(self, mime: str, served: bool) -> list[str]:
        return ["wl-copy", "--type", mime] + (["--foreground"] if served else [])


class XclipClipboard(Backend):
    tool, text_type = "xclip", "UTF8_STRING"

    def types(self) -> list[str]:
        done = run(["xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"], capture=True, timeout_s=2.0,
                   check=False)
        if done.returncode != 0:
            if any(mark in done.stderr for mark in EMPTY):
                return []
            raise failure("xclip", done.returncode, done.stderr)
        return [t for t in done.text.splitlines() if t.strip() and t.strip() not in META_TYPES]

    def _read_argv(self, mime: str) -> list[str]:
        return ["xclip", "-selection", "clipboard", "-t", mime, "-o"]

    def _own_argv(self, mime: str, served: bool) -> list[str]:
        return ["xclip", "-selection", "clipboard", "-t", mime, "-in"] + (["-verbose"] if served else [])

    def _serve(self, argv: list[str], data: bytes) -> Owner:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except FileNotFoundError:
            raise OutputError("xclip is not installed") from None
        _feed(proc, data)
        return _LineCountOwner(self.tool, proc)


class XselClipboard(Backend):
    """xsel cannot list or choose types: text only, and its reads can hang
    on an owner that is handing over (hence short read timeouts)."""

    tool, text_type, lists_types = "xsel", "UTF8_STRING", False

    def types(self) -> list[str]:
        raise OutputError("xsel cannot list the clipboard's types")

    def read(self, mime: str, timeout_s: float = 1.0) -> bytes | None:
        return super().read(mime, min(timeout_s, 1.0)) or None

    def own(self, data: bytes, mime: str, *, served: bool = False) -> Owner:
        run(["xsel", "--clipboard", "--input"], data=data, timeout_s=5.0)  # forks; no way to see reads
        return Owner(self.tool)

    def clear(self) -> None:
        run(["xsel", "--clipboard", "--clear"], timeout_s=5.0)

    def _read_argv(self, mime: str) -> list[str]:
        return ["xsel", "--clipboard", "--output"]


BACKENDS = {"wayland": [(("wl-copy", "wl-paste"), WlClipboard)],
            "x11": [(("xclip",), XclipClipboard), (("xsel",), XselClipboard)]}
INSTALL = {"wayland": "install wl-clipboard", "x11": "install xclip (or xsel)"}


def pick_backend() -> Backend:
    kind = require_session()
    for tools, backend in BACKENDS[kind]:
        if all(have(tool) for tool in tools):
            return backend()
    raise OutputError(f"no clipboard tool for {kind}: {INSTALL[kind]}")


def wait_until(condition, bound_s: float, first_s: float = 0.003, most_s: float = 0.05) -> bool:
    """Poll `condition` with a growing pause until it holds or `bound_s` passes."""
    deadline, pause = time.monotonic() + bound_s, first_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, most_s)
