"""The daemon and the CLI as subprocesses. With V2M_BIN set, the same tests
run against that executable instead of the venv's entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from v2m.config import paths


def v2m_argv() -> list[str]:
    binary = os.environ.get("V2M_BIN")
    if binary:
        return [str(Path(binary).resolve())]
    entry = Path(sys.executable).with_name("v2m")
    assert entry.exists(), f"no v2m entry point next to {sys.executable}; install the package"
    return [str(entry)]


def run_v2m(*args: str, timeout: float = 60, env: dict | None = None, cwd: Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(v2m_argv() + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd, input=input)


NOTIFY_STANDIN = """#!/bin/sh
# Records its arguments, one line per call, as notify-send would show them.
printf '%s\\n' "$*" >> "$V2M_TEST_NOTIFY_LOG"
echo 42
"""


@pytest.fixture
def notifications(tmp_path, monkeypatch) -> Path:
    """A recording `notify-send` first on PATH; returns the file it writes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    notify = bin_dir / "notify-send"
    notify.write_text(NOTIFY_STANDIN)
    notify.chmod(0o755)
    log = tmp_path / "notifications.log"
    monkeypatch.setenv("V2M_TEST_NOTIFY_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


class DaemonProcess:
    def __init__(self, argv: list[str], env: dict | None = None) -> None:
        self.log = open(Path(os.environ["XDG_STATE_HOME"]) / "daemon.stderr", "w+")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout_s: float = 30) -> "DaemonProcess":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}: {self.output()}")
            if run_v2m("ping", timeout=10).returncode == 0:
                return self
            time.sleep(0.1)
        raise AssertionError(f"daemon not ready after {timeout_s}s: {self.output()}")

    def wait_model_loaded(self, timeout_s: float = 60) -> "DaemonProcess":
        """The model loads in the background after PING answers; timings and
        transcriptions should not race it."""
        deadline = time.monotonic() + timeout_s
        while not json.loads(run_v2m("status", "--json").stdout).get("model_loaded"):
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.1)
        return self

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout_s)


@pytest.fixture
def start_daemon(xdg):
    started: list[DaemonProcess] = []

    def start(*extra: str, env: dict | None = None, wait: bool = True) -> DaemonProcess:
        daemon = DaemonProcess(v2m_argv() + ["daemon", *extra], env=env)
        started.append(daemon)
        return daemon.wait_ready() if wait else daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


@pytest.fixture
def running_daemon(start_daemon):
    return start_daemon()


def runtime_files() -> list[str]:
    d = paths.runtime_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []
