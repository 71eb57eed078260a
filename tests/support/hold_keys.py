"""Hold-to-talk under the headless sway of tests/support/wayland.py: a key
held and released through a virtual keyboard, and sway's own bindings for
it, as a user would write them:

    bindsym --no-repeat F9 exec v2m start
    bindsym --release F9 exec v2m stop

Under root, sway runs as another user (see wayland.py), whose processes
cannot reach the tests' daemon (its socket admits its own user only), and
each test has its own XDG directories. So the bindings run `echo start >
FIFO`, and CommandRelay, reading that FIFO as the tests' user, runs
`v2m start` at once, each command in its own process, as sway's exec does:
a press and release run their commands concurrently, in whatever order
their processes reach the daemon.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from v2m.infrastructure.output.wayland_keyboard import VirtualKeyboard

KEY = "F9"


@dataclasses.dataclass(frozen=True)
class Ran:
    name: str
    returncode: int
    stdout: str
    stderr: str


class CommandRelay:
    def __init__(self, argv: list[str], owner: tuple[int, int]) -> None:
        """argv: the v2m command line; owner: (uid, gid) of sway's user."""
        self._argv = argv
        self.dir = Path(tempfile.mkdtemp(prefix="v2m-keys-"))
        os.chmod(self.dir, 0o711)
        self.fifo = self.dir / "commands"
        os.mkfifo(self.fifo, 0o600)
        os.chown(self.fifo, *owner)
        self._fd = os.open(self.fifo, os.O_RDWR)  # never at end of file while open here
        self._ran: list[Ran] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="v2m-key-relay", daemon=True)
        self._reader.start()

    def bindings(self, key: str = KEY) -> str:
        """sway config lines: `v2m start` on the key's press, `v2m stop` on its release."""
        return (f"bindsym --no-repeat {key} exec echo start > {self.fifo}\n"
                f"bindsym --release {key} exec echo stop > {self.fifo}\n")

    def wait(self, name: str, timeout_s: float = 60) -> Ran:
        """The first run of `name` not yet taken, once its command has ended."""
        with self._changed:
            assert self._changed.wait_for(lambda: any(r.name == name for r in self._ran), timeout_s), \
                f"no `v2m {name}` within {timeout_s} s; ran: {self._ran}"
            ran = next(r for r in self._ran if r.name == name)
            self._ran.remove(ran)
            return ran

    def forget(self) -> None:
        with self._changed:
            self._ran.clear()

    def close(self) -> None:
        os.write(self._fd, b"quit\n")
        self._reader.join(5)
        os.close(self._fd)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _read(self) -> None:
        pending = b""
        while True:
            pending += os.read(self._fd, 4096)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                name = line.decode().strip()
                if name == "quit":
                    return
                threading.Thread(target=self._run, args=(name,), daemon=True).start()

    def _run(self, name: str) -> None:
        done = subprocess.run([*self._argv, name], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ))
        with self._changed:
            self._ran.append(Ran(name, done.returncode, done.stdout, done.stderr))
            self._changed.notify_all()


class HeldKey:
    """One key of a virtual keyboard of its own, pressed and released when
    the test says (wtype can only sleep between them)."""

    def __init__(self, wayland_display: str, key: str = KEY) -> None:
        self._keyboard = VirtualKeyboard(wayland_display)
        self._keyboard._upload([key])  # a keymap of this one key, keycode 1
        self._t0 = time.monotonic()

    def press(self) -> None:
        self._send(1)

    def release(self) -> None:
        self._send(0)

    def close(self) -> None:
        self._keyboard.close()

    def __enter__(self) -> "HeldKey":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, state: int) -> None:
        ms = int((time.monotonic() - self._t0) * 1000)
        self._keyboard._send(self._keyboard._keyboard, 1, struct.pack("=III", ms, 1, state))  # key(time, key, state)
        self._keyboard._roundtrip()  # sway has it
