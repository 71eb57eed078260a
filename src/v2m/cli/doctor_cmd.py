"""`v2m doctor`: what works, what does not, and how to fix it.

The desktop checks (session, clipboard, typing, notifications) are about the
daemon, which is what delivers the text: when the daemon reports its own
environment (GET_STATUS "session"), they run in it rather than in this
terminal's, which often differs (a systemd user service does not inherit
DISPLAY or WAYLAND_DISPLAY unless the session imports them).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Iterator

import click

from v2m.config import paths
from v2m.domain.errors import DaemonNotRunning, V2mError

# What the daemon reports in GET_STATUS["session"], and what the desktop checks read.
SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_CURRENT_DESKTOP",
                "XDG_SESSION_TYPE", "PATH", "YDOTOOL_SOCKET")
IMPORT_ENV = ("`systemctl --user import-environment DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS` "
              "(in your session's start-up), then `systemctl --user restart v2m`")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check the daemon, microphone, clipboard and typing tools,
    notifications, the model, the socket directory and CUDA. Exits 1 if
    something needs fixing.

    \b
    Examples:
      v2m doctor
      v2m doctor --json | jq '.[] | select(.ok | not)'
    """
    findings = run_checks()
    if as_json:
        click.echo(json.dumps(findings, indent=2, ensure_ascii=False))
    else:
        for f in findings:
            click.echo(f"{'ok ' if f['ok'] else 'FIX'}  {f['check']:<22}{f['detail']}")
            if not f["ok"] and f["fix"]:
                click.echo(f"     {'':<22}-> {f['fix']}")
    if not all(f["ok"] for f in findings):
        raise SystemExit(1)


def run_checks() -> list[dict[str, Any]]:
    from v2m.bootstrap import diagnose

    status, problem = _daemon_status()
    session = status.get("session") if status else None
    with _environment(session if isinstance(session, dict) else None):
        findings = diagnose()
    for f in findings:
        if f["check"] == "config" and f["ok"] and not paths.config_file().exists():
            f["detail"] = f"no file at {paths.config_file()}: the defaults apply (`v2m config set` creates it)"
        if f["check"] == "session":
            _explain_session(f, status, session)
        if f["check"] == "typing" and isinstance(session, dict):
            _in_daemon_session(f)
    at = next((i + 1 for i, f in enumerate(findings) if f["check"] == "config"), 0)
    findings.insert(at, _daemon_finding(status, problem))
    return findings


def _finding(check: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    return {"check": check, "ok": ok, "detail": detail, "fix": "" if ok else fix}


def _daemon_status() -> tuple[dict[str, Any] | None, str]:
    from v2m.ipc import client

    try:
        return client.call("GET_STATUS", timeout_s=5.0), ""
    except DaemonNotRunning:
        return None, f"not running (no socket at {paths.socket_path()})"
    except V2mError as exc:
        return None, str(exc)


def _daemon_finding(status: dict[str, Any] | None, problem: str) -> dict[str, Any]:
    if status is not None:
        loading = "" if status.get("model_loaded", True) else ", still loading the model"
        return _finding("daemon", True, f"running: pid {status.get('pid')}, {status.get('state')}, "
                                        f"model {status.get('model')}{loading}")
    from v2m.bootstrap import systemd_service

    if systemd_service().unit_path().exists():
        fix = "`systemctl --user start v2m` (if it stops again: `journalctl --user -u v2m`)"
    else:
        fix = "`v2m service install` starts it now and at every login; or run `v2m daemon` in a terminal"
    return _finding("daemon", False, problem, fix)


def _explain_session(f: dict[str, Any], status: dict[str, Any] | None, session: Any) -> None:
    if isinstance(session, dict):
        f["detail"] += " (the daemon's environment)"
        if not f["ok"]:
            f["fix"] = f"the daemon does not see your desktop: {IMPORT_ENV}"
    elif status is not None:
        f["detail"] += " (this terminal's environment; this daemon does not report its own)"
    else:
        f["detail"] += " (this terminal's environment; the daemon is not running)"


def _in_daemon_session(f: dict[str, Any]) -> None:
    """The typing path is the daemon's: say so, and without a desktop there
    the fix is the daemon's environment, not a tool."""
    f["detail"] += " (in the daemon's session)"
    if not f["ok"] and "no graphical session" in f["detail"]:
        f["fix"] = f"the daemon does not see your desktop: {IMPORT_ENV}"


@contextlib.contextmanager
def _environment(session: dict[str, Any] | None) -> Iterator[None]:
    """Run the checks in the daemon's session variables, when it sent them."""
    if not session:
        yield
        return
    saved = {name: os.environ.get(name) for name in SESSION_VARS}
    try:
        for name in SESSION_VARS:
            if name in session:
                _set(name, session[name] if name != "PATH" else session[name] or saved["PATH"])
        yield
    finally:
        for name, value in saved.items():
            _set(name, value)


def _set(name: str, value: Any) -> None:
    if isinstance(value, str) and value:
        os.environ[name] = value
    else:
        os.environ.pop(name, None)
