"""A real Wayland desktop for delivery tests: headless sway with foot focused.

foot runs `sh -c 'stty -icanon -echo; exec cat >> FILE'`, so every byte typed
or pasted into it lands in FILE (`typed()`), immediately and without echo.

wlroots refuses to run as root, so when the tests run as root sway and foot run
as an unprivileged system user (`v2m-desk`, created on first use) with their
own 0700 XDG_RUNTIME_DIR. Clients started by the tests (wtype, wl-copy, the v2m
daemon) stay root and reach the compositor through the ABSOLUTE socket path in
WAYLAND_DISPLAY; root may connect to a socket owned by another user, and
libwayland takes an absolute WAYLAND_DISPLAY as is, so those clients need no
XDG_RUNTIME_DIR of sway's. Run as a normal user, sway and foot simply run as
that user.

Only system binaries may be run as the desktop user: /root is 0700, so the
venv's python is out of its reach.

The seat gets a permanent virtual keyboard (a sleeping wtype), as a real
desktop has a keyboard; see SwaySession(keyboard=...) for why that matters.

    session = SwaySession().start()
    subprocess.run(["wtype", "-s", "50", "--", "hi"], env=session.client_env())
    session.wait_for("hi")
    session.stop()

`sway_session()` is a ready-made pytest fixture body (a generator).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

USER = "v2m-desk"
APP_ID = "v2m-foot"
BINARIES = ("sway", "swaymsg", "foot", "wtype", "setpriv")

# A clean, fixed environment for the desktop user's processes.
_BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

SWAY_CONFIG = """\
xwayland disable
default_border none
default_floating_border none
focus_follows_mouse no
output * resolution 1280x720
"""


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None]


def desktop_user() -> tuple[int, int]:
    """(uid, gid) the compositor runs as: the current user unless that is
    root, else the `v2m-desk` system user, created here if need be."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        done = subprocess.run([useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                               "--shell", "/usr/sbin/nologin", USER], check=False, capture_output=True, text=True,
                              timeout=30)
        # 9: created meanwhile by another test process
        if done.returncode not in (0, 9):
            raise RuntimeError(f"useradd {USER} failed: {done.stderr.strip()}")
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def _poll(condition, timeout_s: float, what: str, interval_s: float = 0.02):
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class SwaySession:
    def __init__(self, app_id: str = APP_ID, keyboard: bool = True, debug: bool = False,
                 extra_config: str = "") -> None:
        """keyboard: give the seat a permanent keyboard, as a real desktop
        has. Headless sway has none: then the seat gains the keyboard
        capability only while a wtype runs, foot binds a wl_keyboard only
        when told, and the keys wtype sends before that are lost (the first
        one or more, about half the time). False reproduces that.
        debug: sway -d, a verbose sway.log.
        extra_config: lines added to sway's config (key bindings)."""
        self.app_id = app_id
        self.keyboard = keyboard
        self.debug = debug
        self.extra_config = extra_config
        self.dir: Path | None = None  # 0700, owned by the desktop user
        self.runtime: Path | None = None  # sway's XDG_RUNTIME_DIR
        self.file: Path | None = None  # what foot's cat writes
        self.wayland_display = ""  # absolute socket path
        self.swaysock = ""
        self.sway: subprocess.Popen | None = None
        self.foot: subprocess.Popen | None = None
        self.keyboard_holder: subprocess.Popen | None = None

    # --- life cycle -------------------------------------------------------

    def start(self, timeout_s: float = 20) -> SwaySession:
        missing = missing_binaries()
        if missing:
            raise RuntimeError(f"missing {', '.join(missing)}; run `make apt`")
        uid, gid = desktop_user()
        self._uid, self._gid = uid, gid
        self.dir = Path(tempfile.mkdtemp(prefix="v2m-sway-"))
        self.runtime = self.dir / "run"
        self.runtime.mkdir(mode=0o700)
        self.file = self.dir / "typed"
        self.file.touch()
        (self.dir / "config").write_text(SWAY_CONFIG + self.extra_config)
        (self.dir / "foot.ini").write_text("")  # defaults; no user or system config
        for path in (self.dir, self.runtime, self.file, self.dir / "config", self.dir / "foot.ini"):
            os.chown(path, uid, gid)
        os.chmod(self.dir, 0o700)
        try:
            self._start_sway(timeout_s)
            if self.keyboard:
                self._start_keyboard(timeout_s)
            self._start_foot(timeout_s)
            if self.keyboard:
                self._probe_keys(timeout_s)
        except Exception as exc:
            detail = self._log_tails(("sway.log", "foot.log"))
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

    def _as_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["setpriv", f"--reuid={self._uid}", f"--regid={self._gid}", "--clear-groups", "--", *argv]

    def _user_env(self, **extra: str) -> dict[str, str]:
        return {**_BASE_ENV, "HOME": str(self.dir), "XDG_RUNTIME_DIR": str(self.runtime), **extra}

    def _start_sway(self, timeout_s: float) -> None:
        assert self.dir is not None and self.runtime is not None
        env = self._user_env(WLR_BACKENDS="headless", WLR_RENDERER="pixman", WLR_LIBINPUT_NO_DEVICES="1")
        with open(self.log, "ab") as log:
            self.sway = subprocess.Popen(self._as_user(["sway", "--config", str(self.dir / "config"), *(["-d"] if self.debug else [])]), env=env,
                                         cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def sockets():
            self._check_alive(self.sway, "sway")
            wayland = [p for p in self.runtime.glob("wayland-*") if not p.name.endswith(".lock")]
            ipc = list(self.runtime.glob("sway-ipc.*.sock"))
            return (wayland[0], ipc[0]) if wayland and ipc else None

        wayland, ipc = _poll(sockets, timeout_s, "sway's sockets")
        self.wayland_display, self.swaysock = str(wayland), str(ipc)
        _poll(lambda: self._check_alive(self.sway, "sway") and self.swaymsg("-t", "get_version", check=False)
              .returncode == 0, timeout_s, "sway's IPC")

    def _start_keyboard(self, timeout_s: float) -> None:
        """A virtual keyboard that stays: a wtype that only sleeps (its -s is
        in ms, and ms * 1000 must fit 32 bits), restarted if it ever ends."""
        env = self._user_env(WAYLAND_DISPLAY=Path(self.wayland_display).name)
        self.keyboard_holder = subprocess.Popen(
            self._as_user(["sh", "-c", "while wtype -s 4000000; do :; done"]), env=env, cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def has_keyboard():
            self._check_alive(self.keyboard_holder, "the keyboard holder")
            inputs = json.loads(self.swaymsg("-t", "get_inputs", "--raw").stdout)
            return any(i.get("type") == "keyboard" for i in inputs)

        _poll(has_keyboard, timeout_s, "the seat to have a keyboard")

    def _probe_keys(self, timeout_s: float) -> None:
        """Type until a probe arrives: then foot has its keyboard and focus."""
        probe = "v2m-probe"
        deadline = time.monotonic() + timeout_s
        while probe not in self.typed():
            if time.monotonic() > deadline:
                raise TimeoutError(f"typed keys never reached foot; got {self.typed()!r}")
            self.run("wtype", "--", probe, check=True)
            with contextlib.suppress(AssertionError):
                self.wait_for(probe, timeout_s=1)
        self.wait_quiet(0.1)
        self.clear()

    def _start_foot(self, timeout_s: float) -> None:
        assert self.dir is not None and self.file is not None
        ready = self.dir / "cat-ready"
        script = f"stty -icanon -echo && : > {ready} && exec cat >> {self.file}"
        env = self._user_env(WAYLAND_DISPLAY=Path(self.wayland_display).name)
        with open(self.dir / "foot.log", "ab") as log:
            self.foot = subprocess.Popen(
                self._as_user(["foot", "--config", str(self.dir / "foot.ini"), "--app-id", self.app_id,
                               "--title", "v2m-target", "sh", "-c", script]),
                env=env, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        _poll(lambda: self._check_alive(self.foot, "foot") and ready.exists(), timeout_s, "foot's cat")
        _poll(lambda: self._check_alive(self.foot, "foot") and self.focused_app_id() == self.app_id,
              timeout_s, "foot's window to be focused")

    def _check_alive(self, proc: subprocess.Popen | None, name: str) -> bool:
        if proc is None or proc.poll() is not None:
            raise RuntimeError(f"{name} exited; see {self.log} and {self.dir}/foot.log")
        return True

    def stop(self) -> None:
        if self.keyboard_holder is not None and self.keyboard_holder.poll() is None:
            # its own session: the sh loop and its wtype, by process group id
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.keyboard_holder.pid, signal.SIGTERM)
        for proc in (self.keyboard_holder, self.foot, self.sway):  # only the processes started here, by pid
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.keyboard_holder = self.foot = self.sway = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    @property
    def log(self) -> Path:
        assert self.dir is not None
        return self.dir / "sway.log"

    # --- clients ----------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Variables a client (wtype, wl-copy, swaymsg, the daemon) needs."""
        return {"WAYLAND_DISPLAY": self.wayland_display, "SWAYSOCK": self.swaysock, "XDG_SESSION_TYPE": "wayland"}

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default os.environ) with `env` applied and DISPLAY removed,
        so that nothing falls back to X11."""
        env = dict(os.environ if base is None else base)
        env.pop("DISPLAY", None)
        env.update(self.env)
        return env

    def run(self, *argv: str, timeout: float = 10, **kwargs) -> subprocess.CompletedProcess:
        """Run a client (as the current user) against this desktop. Its output
        goes to DEVNULL unless asked for: wl-copy's background child keeps
        inherited pipes open, which would hang a capture."""
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        kwargs.setdefault("check", False)
        return subprocess.run(list(argv), env=self.client_env(), timeout=timeout, **kwargs)  # noqa: PLW1510

    def swaymsg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["swaymsg", "-s", self.swaysock, *args], env=self.client_env(), capture_output=True,
                              text=True, timeout=10, check=check)

    def tree(self) -> dict:
        return json.loads(self.swaymsg("-t", "get_tree", "--raw").stdout)

    def focused(self) -> dict | None:
        """The focused node of sway's tree (a window, or a workspace if none)."""
        def walk(node: dict) -> dict | None:
            if node.get("focused"):
                return node
            for child in node.get("nodes", []) + node.get("floating_nodes", []):
                found = walk(child)
                if found is not None:
                    return found
            return None
        return walk(self.tree())

    def focused_app_id(self) -> str | None:
        node = self.focused()
        return None if node is None else node.get("app_id")

    def focus_target(self) -> None:
        """Give foot the focus back (after a test opened another window)."""
        self.swaymsg(f'[app_id="{self.app_id}"] focus')
        _poll(lambda: self.focused_app_id() == self.app_id, 5, "foot's window to be focused")

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

    def wait_until(self, condition, timeout_s: float = 10, what: str = "the text") -> str:
        """Wait until `condition(what arrived)` holds; returns what arrived."""
        deadline = time.monotonic() + timeout_s
        while not condition(now := self.typed()):
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout_s} s for {what}; arrived: {now!r}")
            time.sleep(0.01)
        return now

    def wait_quiet(self, quiet_s: float = 0.3, timeout_s: float = 5) -> str:
        """Wait until nothing more arrives for `quiet_s`; returns what arrived."""
        deadline = time.monotonic() + timeout_s
        last, last_change = self.typed_bytes(), time.monotonic()
        while time.monotonic() - last_change < quiet_s:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
            now = self.typed_bytes()
            if now != last:
                last, last_change = now, time.monotonic()
        return last.decode("utf-8", errors="replace")


def sway_session(extra_config: str = "") -> Iterator[SwaySession]:
    """Fixture body: `@pytest.fixture(scope="session")\\ndef sway(): yield from sway_session()`.
    Fails when sway or foot is not installed."""
    import pytest

    missing = missing_binaries()
    if missing:
        pytest.fail(f"missing {', '.join(missing)} (make apt)")
    session = SwaySession(extra_config=extra_config).start()
    try:
        yield session
    finally:
        session.stop()
