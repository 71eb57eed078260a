"""A private X server (Xvfb) for clipboard tests."""

from __future__ import annotations

import os
import subprocess


class Xvfb:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def start(self, timeout_s: float = 15) -> "Xvfb":
        read_fd, write_fd = os.pipe()
        # -displayfd: Xvfb picks a free display and writes its number when ready.
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0",
                                      "640x480x24"], pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
