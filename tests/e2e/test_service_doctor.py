"""`v2m service` and `v2m doctor`, as subprocesses (also against the binary)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from tests.e2e.conftest import run_v2m, v2m_argv


def test_service_install_writes_a_valid_unit_and_uninstall_removes_it(xdg, tmp_path):
    out = run_v2m("service", "install", "--no-enable")
    assert out.returncode == 0, out.stderr
    unit = xdg["XDG_CONFIG_HOME"] / "systemd" / "user" / "v2m.service"
    text = unit.read_text()
    assert f"ExecStart={v2m_argv()[0]} daemon" in text
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert out.stdout.splitlines() == ["systemctl --user daemon-reload",
                                       "systemctl --user enable --now v2m.service"]
    runtime = tmp_path / "verify-runtime"
    runtime.mkdir(mode=0o700)
    verify = subprocess.run(["systemd-analyze", "--user", "verify", str(unit)], capture_output=True, text=True,
                            env=dict(os.environ, XDG_RUNTIME_DIR=str(runtime)), timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr.strip() == ""
    removed = run_v2m("service", "uninstall", "--no-enable")
    assert removed.returncode == 0 and not unit.exists()
    assert "systemctl --user disable --now v2m.service" in removed.stdout
    again = run_v2m("service", "uninstall", "--no-enable")
    assert again.returncode == 1 and "no unit" in again.stderr


def test_doctor_reports_the_missing_microphone_as_a_finding(xdg):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k not in ("DISPLAY",
                                                                                          "WAYLAND_DISPLAY")}
    out = run_v2m("doctor", "--json", env=env)
    assert out.returncode == 1, out.stderr
    findings = {f["check"]: f for f in json.loads(out.stdout)}
    assert findings["microphone"]["ok"] is False and findings["microphone"]["fix"]
    assert findings["model"]["ok"] is True and findings["config"]["ok"] is True
    assert findings["session"]["ok"] is False
    assert "Traceback" not in out.stderr


def test_doctor_is_happy_in_a_desktop_session(xdg, pulse, xvfb, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    out = run_v2m("doctor")
    lines = {line.split()[1]: line.split()[0] for line in out.stdout.splitlines() if line[:3] in ("ok ", "FIX")}
    assert lines["microphone"] == "ok" and lines["configured"] == "ok"
    assert lines["clipboard"] == "ok" and lines["typing"] == "ok" and lines["model"] == "ok"
    assert "cuda" in lines


def doctor_findings(env: dict) -> dict[str, dict]:
    out = run_v2m("doctor", "--json", env=env)
    assert "Traceback" not in out.stderr, out.stderr
    return {f["check"]: f for f in json.loads(out.stdout)}


def without_display() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def test_doctor_names_the_typing_path_of_the_daemons_x11_session(xdg, xvfb, start_daemon):
    start_daemon(env={**without_display(), "DISPLAY": xvfb.display})
    typing = doctor_findings(without_display())["typing"]  # this terminal has no display; the daemon has
    assert typing == {"check": "typing", "ok": True, "detail": "xdotool on X11 (in the daemon's session)",
                      "fix": ""}


def test_doctor_says_there_is_no_typing_path_without_a_display_and_how_to_fix_it(xdg, xvfb, start_daemon):
    start_daemon(env=without_display())
    findings = doctor_findings({**without_display(), "DISPLAY": xvfb.display})  # the terminal's does not count
    typing = findings["typing"]
    assert typing["ok"] is False
    assert typing["detail"] == ("no typing path: no graphical session (DISPLAY and WAYLAND_DISPLAY are unset) "
                                "(in the daemon's session)")
    assert typing["fix"].startswith("the daemon does not see your desktop: `systemctl --user import-environment "
                                    "DISPLAY WAYLAND_DISPLAY")
    assert findings["session"]["ok"] is False and findings["daemon"]["ok"] is True
    text = run_v2m("doctor", env={**without_display(), "DISPLAY": xvfb.display}).stdout
    assert "FIX  typing                no typing path" in text and "-> the daemon does not see your desktop" in text


def test_doctor_says_how_to_get_a_typing_path_where_none_is_installed(xdg, xvfb, start_daemon, tmp_path):
    tools = tmp_path / "tools"  # the daemon's PATH: a clipboard tool, no typing tool
    tools.mkdir()
    (tools / "xclip").symlink_to(shutil.which("xclip"))
    env = {**without_display(), "DISPLAY": xvfb.display, "PATH": str(tools)}
    daemon = start_daemon(env=env)
    findings = doctor_findings(os.environ.copy())
    assert findings["clipboard"]["ok"] is True
    typing = findings["typing"]
    assert typing["ok"] is False and typing["detail"] == (
        "no typing tool for x11: no typing path: typed text goes to the clipboard; paste it with Ctrl+V "
        "(Ctrl+Shift+V in a terminal) (in the daemon's session)")
    assert typing["fix"].startswith("install xdotool; or ydotool types in any session, through the kernel's uinput")
    assert "/dev/uinput" in typing["fix"] and "ydotoold" in typing["fix"]
    run_v2m("shutdown")
    daemon.proc.wait(15)
    (tools / "ydotool").write_text("#!/bin/sh\nexit 1\n")  # installed, but no ydotoold socket
    (tools / "ydotool").chmod(0o755)
    start_daemon(env=env)
    typing = doctor_findings(os.environ.copy())["typing"]
    assert typing["ok"] is False and "ydotool is installed, but ydotoold is not running" in typing["fix"]
