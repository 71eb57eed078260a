"""A real X11 desktop for delivery tests: Xvfb with xterm focused.

xterm runs `sh -c 'stty -icanon -echo; exec cat >> FILE'`, so every byte typed
or pasted into it lands in FILE (`typed()`), immediately and without echo.

There is no window manager: the xterm gets the input focus explicitly
(`xdotool windowfocus --sync`), and `_NET_ACTIVE_WINDOW` (xdotool
getactivewindow) does not exist; `focused_class()` reads WM_CLASS of the
window `xdotool getwindowfocus` names instead.

xterm pastes PRIMARY on Shift+Insert and has no key for CLIPBOARD by default.
Here Ctrl+Shift+V is bound to insert-selection(CLIPBOARD), as in most other
terminals (foot, GNOME Terminal, Konsole), through an X resource:
    XTerm*VT100.translations: #override Ctrl Shift <Key>V: insert-selection(CLIPBOARD)
Shift+Insert keeps pasting PRIMARY.

    session = XtermSession().start()          # its own Xvfb
    session = XtermSession(xvfb.display).start()  # or a shared one
    subprocess.run(["xdotool", "type", "--delay", "50", "--", "hi"], env=session.client_env())
    session.wait_for("hi")

`xterm_session()` is a ready-made pytest fixture body (a generator).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.xvfb import Xvfb

INSTANCE = "v2m-xterm"  # WM_CLASS instance name; the class stays "XTerm"
CLIPBOARD_PASTE = "XTerm*VT100.translations: #override Ctrl Shift <Key>V: insert-selection(CLIPBOARD)"
BINARIES = ("Xvfb", "xterm", "xdotool", "xprop", "xmodmap")


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None]


def _poll(condition, timeout_s: float, what: str, interval_s: float = 0.02):
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class XtermSession:
    def __init__(self, display: str | None = None, instance: str = INSTANCE) -> None:
        """display: an X server to use (e.g. the session `xvfb` fixture's);
        None starts a private Xvfb, stopped with this session."""
        self.display = display or ""
        self.instance = instance
        self._xvfb: Xvfb | None = None
        self.dir: Path | None = None
        self.file: Path | None = None
        self.window: int | None = None
        self.xterm: subprocess.Popen | None = None

    # --- life cycle -------------------------------------------------------

    def start(self, timeout_s: float = 20) -> XtermSession:
        missing = missing_binaries()
        if missing:
            raise RuntimeError(f"missing {', '.join(missing)}; run `make apt`")
        self.dir = Path(tempfile.mkdtemp(prefix="v2m-xterm-"))
        self.file = self.dir / "typed"
        self.file.touch()
        try:
            if not self.display:
                self._xvfb = Xvfb().start(timeout_s)
                self.display = self._xvfb.display
            self._start_xterm(timeout_s)
        except Exception as exc:
            detail = self._log_tails(("xterm.log",))
            self.stop()  # removes the directory, logs included: keep their tails
            raise RuntimeError(f"{exc}\n{detail}") from exc
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tails(self, names: tuple[str, ...], lines: int = 15) -> str:
        out = []
        for name in names:
            path = self.dir / name if self.dir is not None else None
            if path is not None and path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(out)

    def _start_xterm(self, timeout_s: float) -> None:
        assert self.dir is not None and self.file is not None
        ready = self.dir / "cat-ready"
        script = f"stty -icanon -echo && : > {ready} && exec cat >> {self.file}"
        env = dict(os.environ, DISPLAY=self.display, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        env.pop("WAYLAND_DISPLAY", None)
        with open(self.dir / "xterm.log", "ab") as log:
            self.xterm = subprocess.Popen(
                ["xterm", "-name", self.instance, "-title", "v2m-target", "-geometry", "80x24+0+0", "+sb",
                 "-xrm", CLIPBOARD_PASTE, "-e", "sh", "-c", script],
                env=env, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        _poll(lambda: self._check_alive() and ready.exists(), timeout_s, "xterm's cat")

        def mapped_window():
            self._check_alive()
            found = self.xdotool("search", "--onlyvisible", "--classname", f"^{self.instance}$", check=False)
            ids = found.stdout.split()
            return int(ids[0]) if found.returncode == 0 and ids else None

        self.window = _poll(mapped_window, timeout_s, "xterm's window to be mapped")
        self.focus_target()

    def _check_alive(self) -> bool:
        if self.xterm is None or self.xterm.poll() is not None:
            raise RuntimeError(f"xterm exited; see {self.dir}/xterm.log")
        return True

    def stop(self) -> None:
        if self.xterm is not None and self.xterm.poll() is None:  # only what was started here, by pid
            self.xterm.send_signal(signal.SIGTERM)
            try:
                self.xterm.wait(5)
            except subprocess.TimeoutExpired:
                self.xterm.kill()
                self.xterm.wait(5)
        self.xterm = None
        if self._xvfb is not None:
            self._xvfb.stop()
            self._xvfb = None
            self.display = ""
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # --- clients ----------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Variables a client (xdotool, xclip, the daemon) needs."""
        return {"DISPLAY": self.display, "XDG_SESSION_TYPE": "x11"}

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default os.environ) with `env` applied and WAYLAND_DISPLAY
        removed, so that nothing picks Wayland tools."""
        env = dict(os.environ if base is None else base)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(self.env)
        return env

    def run(self, *argv: str, timeout: float = 10, **kwargs) -> subprocess.CompletedProcess:
        """Run a client against this display. Its output goes to DEVNULL unless
        asked for: xclip's background child keeps inherited pipes open, which
        would hang a capture."""
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        kwargs.setdefault("check", False)
        return subprocess.run(list(argv), env=self.client_env(), timeout=timeout, **kwargs)  # noqa: PLW1510

    def xdotool(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["xdotool", *args], env=self.client_env(), capture_output=True, text=True,
                              timeout=10, check=check)

    @contextlib.contextmanager
    def keysyms_mapped(self, text: str) -> Iterator[None]:
        """Bind every non-ASCII character of `text` to a spare keycode for the
        duration (and unbind after).

        `xdotool type` binds a character missing from the keymap to a scratch
        keycode, presses it and unbinds it at once; xterm looks the key up
        lazily, often after the unbinding, and drops the character or types
        the previous one (most Unicode runs lose some, even with --delay 100
        on a busy machine). With the characters in the keymap beforehand,
        xdotool just presses their keys, and delivery is exact.
        """
        chars = sorted({c for c in text if not c.isascii()})
        listing = self.run("xmodmap", "-pke", stdout=subprocess.PIPE, text=True, check=True).stdout
        free = [int(line.split()[1]) for line in listing.splitlines()
                if "=" in line and not line.split("=", 1)[1].strip() and int(line.split()[1]) > 8]
        if len(chars) > 2 * len(free):
            raise ValueError(f"{len(chars)} distinct non-ASCII characters; only {2 * len(free)} spare key slots")
        used = free[:(len(chars) + 1) // 2]
        bind = [f"keycode {code} = " + " ".join(f"U{ord(c):04X}" for c in chars[2 * i:2 * i + 2])
                for i, code in enumerate(used)]
        try:
            if bind:
                self.run("xmodmap", *[a for e in bind for a in ("-e", e)], check=True)
            yield
        finally:
            if used:
                self.run("xmodmap", *[a for code in used for a in ("-e", f"keycode {code} =")])

    def focused_window(self) -> int | None:
        """The client window holding the input focus (xdotool walks up from the
        focused subwindow to the one with WM_CLASS), or None."""
        done = self.xdotool("getwindowfocus", check=False)
        try:
            window = int(done.stdout.split()[0])
        except (IndexError, ValueError):
            return None
        return window if window > 1 else None  # 0: None, 1: PointerRoot

    def focused_class(self) -> tuple[str, str] | None:
        """(instance, class) of WM_CLASS of the focused window, e.g.
        ("v2m-xterm", "XTerm"); None when nothing has the focus."""
        window = self.focused_window()
        if window is None:
            return None
        done = subprocess.run(["xprop", "-id", str(window), "WM_CLASS"], check=False, env=self.client_env(),
                              capture_output=True, text=True, timeout=10)
        # WM_CLASS(STRING) = "v2m-xterm", "XTerm"
        if done.returncode != 0 or "=" not in done.stdout:
            return None
        parts = [p.strip().strip('"') for p in done.stdout.split("=", 1)[1].split(",")]
        return (parts[0], parts[1]) if len(parts) == 2 else None

    def focus_target(self, timeout_s: float = 5) -> None:
        """Give the xterm the input focus (again)."""
        assert self.window is not None
        self.xdotool("windowfocus", "--sync", str(self.window))
        _poll(lambda: self.focused_window() == self.window, timeout_s, "xterm to have the focus")

    # --- what arrived -----------------------------------------------------

    def typed_bytes(self) -> bytes:
        assert self.file is not None
        return self.file.read_bytes()

    def typed(self) -> str:
        return self.typed_bytes().decode("utf-8", errors="replace")

    def clear(self) -> None:
        """Forget what arrived so far (cat appends, so truncating is safe)."""
        assert self.file is not None
        os.truncate(self.file, 0)

    def wait_for(self, text: str, timeout_s: float = 5) -> str:
        """Wait until what arrived contains `text`; returns all that arrived.
        Raises AssertionError, showing what arrived, on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            now = self.typed()
            if text in now:
                return now
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout_s} s for {text!r}; arrived: {now!r}")
            time.sleep(0.01)

    def wait_quiet(self, quiet_s: float = 0.3, timeout_s: float = 5) -> str:
        """Wait until nothing more arrives for `quiet_s`; returns what arrived."""
        deadline = time.monotonic() + timeout_s
        last, last_change = self.typed_bytes(), time.monotonic()
        while time.monotonic() - last_change < quiet_s and time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.typed_bytes()
            if now != last:
                last, last_change = now, time.monotonic()
        return last.decode("utf-8", errors="replace")


def xterm_session(display: str | None = None) -> Iterator[XtermSession]:
    """Fixture body, e.g. `@pytest.fixture(scope="session")\\ndef xterm(xvfb):
    yield from xterm_session(xvfb.display)`; without a display it starts its
    own Xvfb. Skips when xterm or xdotool is not installed."""
    import pytest

    missing = missing_binaries()
    if missing:
        pytest.fail(f"missing {', '.join(missing)} (make apt)")
    session = XtermSession(display).start()
    try:
        yield session
    finally:
        session.stop()
