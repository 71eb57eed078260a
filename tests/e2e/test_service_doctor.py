"""`v2m service` and `v2m doctor`, as subprocesses (also against the binary)."""

from __future__ import annotations

import json
import os
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
