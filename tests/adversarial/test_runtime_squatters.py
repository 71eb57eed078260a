"""Paths another user could have made, and a daemon that must always end.

The runtime directory, its lock file and the daemon's log are checked as
OpenSSH checks its files: owner and mode before use, no symlinks followed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import threading
import time

import pytest

from tests.e2e.conftest import run_v2m, running_daemon, start_daemon  # noqa: F401 (fixtures)
from v2m.config import paths
from v2m.ipc.instance_lock import InstanceLock
from v2m.domain.errors import InsecureRuntimeDir

BASHRC = "# the user's shell setup\nexport PATH=$HOME/bin:$PATH\n"


@pytest.fixture
def loose_runtime(xdg, monkeypatch, other_user):
    """XDG_RUNTIME_DIR in a shared directory, its v2m dir ours but left 0777."""
    shared = other_user.shared_tmp()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    run = shared / "v2m"
    run.mkdir()
    os.chmod(run, 0o777)
    yield run
    shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture
def victim(tmp_path):
    bashrc = tmp_path / ".bashrc"
    bashrc.write_text(BASHRC)
    return bashrc


def test_a_planted_lock_symlink_never_writes_into_its_target(loose_runtime, victim, other_user, start_daemon):
    """Review finding: `v2m.lock -> ~/.bashrc`, planted by another user in a
    loose runtime dir, got the daemon's pid written into .bashrc."""
    os.chmod(victim.parent, 0o755)
    planted = other_user.run("ln", "-s", str(victim), str(loose_runtime / "v2m.lock"))
    assert planted.returncode == 0, planted.stderr
    daemon = start_daemon(wait=False)
    assert daemon.proc.wait(60) == 1
    assert victim.read_text() == BASHRC
    assert "uid 65534" in daemon.output() and "v2m.lock" in daemon.output()
    assert stat.S_IMODE(os.stat(loose_runtime).st_mode) == 0o700  # ours: tightened


def test_a_socket_planted_by_another_user_is_refused_not_reused(loose_runtime, other_user, start_daemon):
    other_user.run("/usr/bin/python3", "-c",
                   f"import socket; socket.socket(socket.AF_UNIX).bind({str(loose_runtime / 'v2m.sock')!r})")
    assert (loose_runtime / "v2m.sock").exists()
    daemon = start_daemon(wait=False)
    assert daemon.proc.wait(60) == 1
    assert "v2m.sock" in daemon.output() and "uid 65534" in daemon.output()


def test_the_lock_is_never_opened_through_a_symlink_or_a_second_name(xdg, victim):
    run = paths.ensure_private_dir(paths.runtime_dir())
    lock_path = run / "v2m.lock"
    lock_path.symlink_to(victim)
    with pytest.raises(InsecureRuntimeDir, match="symbolic link"):
        InstanceLock(lock_path).acquire()
    lock_path.unlink()
    os.link(victim, lock_path)  # a hard link: same file, another name
    with pytest.raises(InsecureRuntimeDir, match="2 links"):
        InstanceLock(lock_path).acquire()
    assert victim.read_text() == BASHRC


def test_the_log_is_private_and_a_loose_one_is_tightened(xdg, start_daemon):
    state = xdg["XDG_STATE_HOME"] / "v2m"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    (state / "daemon.log").write_text("old lines\n")
    os.chmod(state / "daemon.log", 0o644)
    daemon = start_daemon()
    run_v2m("shutdown")
    assert daemon.proc.wait(15) == 0
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "daemon.log").st_mode) == 0o600
    history_like = [p for p in state.iterdir() if p.is_file()]
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in history_like), history_like


@pytest.mark.timeout(180)
def test_shutdown_during_a_long_file_ends_the_process(speech_dir, tmp_path, start_daemon):
    """Review finding: SHUTDOWN logged "stopped" while the process lived on,
    held by the ASR thread (a FIFO read, or here simply a long file)."""
    long_wav = tmp_path / "long.wav"
    subprocess.run(["sox", str(speech_dir / "dictation.wav"), str(long_wav), "repeat", "15"], check=True)
    daemon = start_daemon()
    daemon.wait_model_loaded()
    transcribe = threading.Thread(target=run_v2m, args=("transcribe", str(long_wav)), kwargs={"timeout": 170})
    transcribe.start()
    deadline = time.monotonic() + 60
    while json.loads(run_v2m("status", "--json").stdout)["state"] != "transcribing":
        assert time.monotonic() < deadline, daemon.output()
        time.sleep(0.05)
    asked = time.monotonic()
    assert run_v2m("shutdown").returncode == 0
    daemon.proc.wait(30)
    took = time.monotonic() - asked
    assert took < 8, f"the daemon took {took:.1f} s to exit after SHUTDOWN"
    transcribe.join(170)
