"""`v2m self`: where this v2m runs from, and removing what the one-file
release (v2m-VERSION-linux-ARCH.run) unpacked.

The .run's stub unpacks each build once into
$XDG_DATA_HOME/v2m/runtime/BUILD_ID/ and sets V2M_RUN_FILE and
V2M_RUNTIME_DIR for the program it starts.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import click

from v2m.cli.conventions import CONTEXT_SETTINGS, SuggestingGroup
from v2m.config import paths
from v2m.domain.errors import V2mError


def runtime_root() -> Path:
    return paths.data_dir() / "runtime"


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _daemon_exe() -> Path | None:
    """The running daemon's executable, if a daemon answers."""
    from v2m.ipc.client import DaemonClient

    try:
        with DaemonClient(timeout_s=2) as client:
            pid = client.call("GET_STATUS").get("pid")
        return Path(os.readlink(f"/proc/{int(pid)}/exe"))
    except (V2mError, OSError, TypeError, ValueError, AttributeError):
        return None


def _kind() -> str:
    if os.environ.get("V2M_RUN_FILE"):
        return "one-file (.run)"
    if not getattr(sys, "frozen", False):
        return "Python package"
    return "package (.deb)" if Path(sys.executable).resolve().is_relative_to("/usr/lib/v2m") else "folder"


@click.group(name="self", cls=SuggestingGroup, context_settings=CONTEXT_SETTINGS)
def self_group() -> None:
    """This v2m: where it runs from; remove what the one-file release unpacked.

    \b
    Examples:
      v2m self info             # folder, .deb or .run; what the .run unpacked
      v2m self uninstall        # remove ~/.local/share/v2m/runtime/
    """


@self_group.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Where this v2m runs from, and the runtimes the .run has unpacked.

    Example: v2m self info --json
    """
    root = runtime_root()
    runtimes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if root.is_dir() else []
    found = {"kind": _kind(), "executable": sys.executable, "run_file": os.environ.get("V2M_RUN_FILE"),
             "runtime": os.environ.get("V2M_RUNTIME_DIR"),
             "unpacked": [{"path": str(p), "bytes": _size(p)} for p in runtimes]}
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(f"this v2m: {found['kind']}, {found['executable']}")
    if found["run_file"]:
        click.echo(f"from: {found['run_file']}\nruntime: {found['runtime']}")
    for entry in found["unpacked"]:
        click.echo(f"unpacked: {entry['path']} ({entry['bytes'] / 1e6:.0f} MB)")


@self_group.command()
def uninstall() -> None:
    """Remove the runtimes the one-file release (.run) unpacked into
    $XDG_DATA_HOME/v2m/runtime/. Your settings, models and history stay; the
    .run file itself stays (delete it yourself); the next run unpacks again.

    Example: v2m shutdown && v2m self uninstall
    """
    root = runtime_root()
    if not root.is_dir() or not any(root.iterdir()):
        raise V2mError(f"nothing to remove: no unpacked runtime in {root}",
                       "a folder or .deb install is removed by deleting the folder or `apt remove v2m`")
    exe = _daemon_exe()
    if exe is not None and exe.is_relative_to(root):
        raise V2mError(f"the daemon runs from {exe.parent}", "stop it first: `v2m shutdown`")
    freed = _size(root)
    shutil.rmtree(root)
    click.echo(f"removed {root} ({freed / 1e6:.0f} MB)", err=True)
    run_file = os.environ.get("V2M_RUN_FILE")
    if run_file:
        click.echo(f"{run_file} stays; delete it to remove v2m entirely", err=True)
