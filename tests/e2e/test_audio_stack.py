"""PortAudio aborts the process when ALSA has no configuration; v2m checks
first and refuses with what to install (v2m.infrastructure.audio.alsa_probe).
Here ALSA_CONFIG_PATH names a missing file, as a machine without alsa-lib's
configuration: the in-process check fails, the child probe aborts, the user
gets a message and the daemon lives on. Runs on the host, against the venv's
v2m or V2M_BIN."""

from __future__ import annotations

import os

from tests.e2e.conftest import run_v2m, start_daemon  # noqa: F401 (fixture)

NO_CONFIG = "no ALSA configuration; install libasound2 (Debian/Ubuntu), alsa-lib (Fedora/Arch)"


def broken_alsa() -> dict[str, str]:
    return dict(os.environ, ALSA_CONFIG_PATH="/nonexistent/alsa.conf")


def test_devices_and_doctor_report_a_missing_alsa_configuration(xdg):
    for command in ("devices", "doctor"):
        out = run_v2m(command, env=broken_alsa())
        assert out.returncode == 1, (command, out.returncode, out.stderr)
        assert NO_CONFIG in out.stdout + out.stderr, (command, out.stdout, out.stderr)


def test_the_daemon_refuses_to_record_and_keeps_running(start_daemon):
    daemon = start_daemon(env=broken_alsa())
    for _ in range(2):  # the second toggle answers from the remembered probe
        out = run_v2m("toggle")
        assert out.returncode == 1 and NO_CONFIG in out.stderr, out.stderr
    assert run_v2m("ping").stdout.strip() == "PONG"
    assert daemon.proc.poll() is None
    assert "child killed by signal 6" in daemon.output()
