"""The venv's `v2m daemon` for a benchmark: private XDG directories (0700),
started, and ready once its model is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from v2m.ipc.client import DaemonClient

XDG = ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")


class LocalDaemon:
    def __init__(self, tmp: Path, env: dict[str, str], dirs: tuple[str, ...] = XDG) -> None:
        self.env = dict(env)
        for var in dirs:
            self.env[var] = str(tmp / var)
            os.makedirs(self.env[var], mode=0o700, exist_ok=True)
        self.sock = Path(self.env["XDG_RUNTIME_DIR"]) / "v2m" / "v2m.sock"
        self.process: subprocess.Popen | None = None

    @property
    def config_dir(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "v2m"

    def start(self) -> LocalDaemon:
        self.process = subprocess.Popen([str(Path(sys.executable).with_name("v2m")), "daemon"], env=self.env,
                                        stderr=subprocess.DEVNULL)
        while not self.status().get("model_loaded"):
            if self.process.poll() is not None:
                raise RuntimeError(f"the daemon exited ({self.process.returncode}) before its model loaded")
            time.sleep(0.2)
        return self

    def status(self) -> dict:
        try:
            with DaemonClient(self.sock) as client:
                return client.call("GET_STATUS") or {}
        except Exception:
            return {}  # not up yet

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
