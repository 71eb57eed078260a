"""The systemd user unit: write it with ExecStart pointing at this v2m."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

UNIT_NAME = "v2m.service"


def unit_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user" / UNIT_NAME


def this_executable() -> Path:
    """The `v2m` the user ran: the .run file, the binary's entry, or the venv's script."""
    run_file = os.environ.get("V2M_RUN_FILE")
    if run_file:
        # The .run, not the runtime it unpacked: a new download unpacks a new
        # BUILD_ID, and the unit must follow the file the user keeps.
        return Path(run_file)
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().with_name("v2m")  # v2m-app's fast-client sibling
    beside = Path(sys.executable).with_name("v2m")
    if beside.exists():
        return beside
    found = shutil.which("v2m")
    return Path(found).resolve() if found else Path(sys.argv[0]).resolve()


def render_unit(executable: Path) -> str:
    template = resources.files("v2m").joinpath("data", UNIT_NAME).read_text(encoding="utf-8")
    return re.sub(r"^ExecStart=.*$", f"ExecStart={shlex.quote(str(executable))} daemon", template,
                  flags=re.MULTILINE)


ENABLE = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT_NAME]]
DISABLE = [["systemctl", "--user", "disable", "--now", UNIT_NAME], ["systemctl", "--user", "daemon-reload"]]


def install(executable: Path | None = None) -> Path:
    path = unit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_unit(executable or this_executable()), encoding="utf-8")
    return path


def uninstall() -> Path | None:
    path = unit_path()
    if not path.exists():
        return None
    path.unlink()
    return path


def run_systemctl(commands: list[list[str]]) -> list[str]:
    """Run each command; return the failures as messages (empty when all worked)."""
    failures = []
    for argv in commands:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
            failures.append(f"{' '.join(argv)}: {exc}")
            continue
        if proc.returncode != 0:
            failures.append(f"{' '.join(argv)}: {proc.stderr.strip() or f'exit code {proc.returncode}'}")
    return failures
