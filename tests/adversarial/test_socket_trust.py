"""The client trusts only a daemon of its own user (issue 12, finding 3).

Another account can create the runtime directory first (the fallback
/tmp/v2m-UID, or any directory the user points XDG_RUNTIME_DIR at) and
listen on the socket path. The client must then refuse: path checks on the
directory and the socket (owner, mode, no symlinks, a real socket) give a
clear message, and SO_PEERCRED after connecting catches the rest. Both the
Python client and the C fast client are tested.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import v2m_argv
from tests.integration.conftest import daemon  # noqa: F401  (fixture)
from v2m.config import paths
from v2m.ipc.client import DaemonClient
from v2m.domain.errors import DaemonNotRunning, V2mError

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another uid")

ROOT = Path(__file__).resolve().parents[2]
ATTACKER_UID = 65534
HINT = "set XDG_RUNTIME_DIR to a directory you own"

# A server that answers every frame like a daemon would, and records what it got.
ATTACKER = r"""
import json, os, socket, struct, sys, time
run_dir, mode, record = sys.argv[1], int(sys.argv[2], 8), sys.argv[3]
os.mkdir(run_dir)
os.chmod(run_dir, mode)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(os.path.join(run_dir, "v2m.sock"))
os.chmod(os.path.join(run_dir, "v2m.sock"), 0o777)
listener.listen(8)
listener.settimeout(0.5)
reply = json.dumps({"status": "success", "error": None,
                    "data": {"transcription": "ATTACKER", "message": "PONG", "state": "ATTACKER"}}).encode()
open(record, "a").close()
open(record + ".ready", "w").close()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        continue
    conn.settimeout(2)
    buf = b""
    try:
        while chunk := conn.recv(65536):
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
                n = struct.unpack(">I", buf[:4])[0]
                with open(record, "ab") as f:
                    f.write(buf[4:4 + n] + b"\n")
                buf = buf[4 + n:]
                conn.sendall(struct.pack(">I", len(reply)) + reply)
    except OSError:
        pass
    conn.close()
"""


class Attacker:
    """uid 65534 listening on SHARED/v2m/v2m.sock; SHARED is XDG_RUNTIME_DIR."""

    def __init__(self, other_user, mode: int = 0o777) -> None:
        self.shared = other_user.shared_tmp()
        self.run_dir = self.shared / "v2m"
        self.socket = self.run_dir / "v2m.sock"
        self.record = self.shared / "received"
        self.xdg_runtime = self.shared  # what the victim's XDG_RUNTIME_DIR points at
        self.shown_path = self.run_dir  # the path the refusal must name
        self.proc = other_user.popen(sys.executable, "-c", ATTACKER, str(self.run_dir), f"{mode:o}",
                                     str(self.record), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not Path(f"{self.record}.ready").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"attacker server did not start: {self.proc.stderr.read()!r}")
            time.sleep(0.02)

    def received(self) -> str:
        return self.record.read_text(errors="replace") if self.record.exists() else ""

    def env(self) -> dict[str, str]:
        return {**os.environ, "XDG_RUNTIME_DIR": str(self.xdg_runtime)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # the pid we started, nothing else
        self.proc.wait(5)
        self.proc.stderr.close()
        shutil.rmtree(self.shared, ignore_errors=True)


@pytest.fixture
def attacker_factory(xdg, other_user):
    started: list[Attacker] = []

    def start(mode: int = 0o777) -> Attacker:
        started.append(Attacker(other_user, mode))
        return started[-1]

    yield start
    for attacker in started:
        attacker.stop()


@pytest.fixture
def attacker_dir(attacker_factory, request):
    """The runtime dir and socket are the attacker's own."""
    return attacker_factory(getattr(request, "param", 0o777))


@pytest.fixture
def foreign_peer(attacker_factory):
    """Dir and socket file now belong to us (0700, 0600), but the listening
    process is still uid 65534: only SO_PEERCRED can tell."""
    attacker = attacker_factory()
    os.chown(attacker.run_dir, 0, 0)
    os.chmod(attacker.run_dir, 0o700)
    os.chown(attacker.socket, 0, 0)
    os.chmod(attacker.socket, 0o600)
    attacker.shown_path = attacker.socket
    return attacker


@pytest.fixture
def symlinked_socket(attacker_factory, tmp_path):
    """Our own 0700 dir whose v2m.sock is a symlink to the attacker's socket."""
    attacker = attacker_factory()
    ours = tmp_path / "run"
    (ours / "v2m").mkdir(parents=True, mode=0o700)
    (ours / "v2m" / "v2m.sock").symlink_to(attacker.socket)
    attacker.xdg_runtime, attacker.shown_path = ours, ours / "v2m" / "v2m.sock"
    return attacker


@pytest.fixture
def symlinked_dir(attacker_factory, tmp_path):
    """XDG_RUNTIME_DIR/v2m is a symlink to the attacker's directory."""
    attacker = attacker_factory()
    ours = tmp_path / "run"
    ours.mkdir(mode=0o700)
    (ours / "v2m").symlink_to(attacker.run_dir)
    attacker.xdg_runtime, attacker.shown_path = ours, ours / "v2m"
    return attacker


SETUPS = ["attacker_dir", "foreign_peer", "symlinked_socket", "symlinked_dir"]


def assert_refused(out: subprocess.CompletedProcess, shown: Path) -> None:
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr)
    assert "ATTACKER" not in out.stdout and "PONG" not in out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("v2m: refusing "), out.stderr
    assert str(shown) in out.stderr and HINT in out.stderr, out.stderr


# ---- the Python client ----

@pytest.mark.parametrize("attacker_dir", [0o777, 0o755], indirect=True)
@pytest.mark.parametrize("args", [["toggle"], ["ping"], ["refine", "secret words"]])
def test_cli_refuses_a_runtime_dir_of_another_user(attacker_dir, args):
    out = subprocess.run(v2m_argv() + args, capture_output=True, text=True, timeout=30, env=attacker_dir.env())
    assert_refused(out, attacker_dir.run_dir)
    assert f"uid {ATTACKER_UID}" in out.stderr
    assert "secret words" not in attacker_dir.received()
    assert attacker_dir.received() == ""  # not even a PING reached it


@pytest.mark.parametrize("args", [["toggle"], ["ping"], ["refine", "secret words"]])
def test_cli_refuses_a_server_of_another_uid_behind_our_own_paths(foreign_peer, args):
    out = subprocess.run(v2m_argv() + args, capture_output=True, text=True, timeout=30, env=foreign_peer.env())
    assert_refused(out, foreign_peer.socket)
    assert f"uid {ATTACKER_UID}" in out.stderr
    # Connecting sent nothing: the peer is checked before the first request.
    assert foreign_peer.received() == ""


@pytest.mark.parametrize("setup", ["symlinked_socket", "symlinked_dir"])
def test_cli_refuses_symlinks(setup, request):
    attacker = request.getfixturevalue(setup)
    for args in (["toggle"], ["refine", "secret words"]):
        out = subprocess.run(v2m_argv() + args, capture_output=True, text=True, timeout=30, env=attacker.env())
        assert_refused(out, attacker.shown_path)
        assert "symbolic link" in out.stderr
    assert attacker.received() == ""


@pytest.mark.parametrize("setup", SETUPS)
def test_daemon_client_raises_a_v2m_error(setup, request, monkeypatch):
    attacker = request.getfixturevalue(setup)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(attacker.xdg_runtime))
    with pytest.raises(V2mError) as info:
        with DaemonClient(timeout_s=5) as client:
            client.call("PROCESS_TEXT", {"text": "secret words"})
    assert not isinstance(info.value, DaemonNotRunning)
    assert HINT in str(info.value)
    assert attacker.received() == ""


def test_a_socket_that_is_not_a_socket_is_refused(xdg):
    run = paths.ensure_private_dir(paths.runtime_dir())
    (run / "v2m.sock").write_text("")
    with pytest.raises(V2mError, match="not a socket"):
        DaemonClient(timeout_s=5)


def test_a_group_writable_runtime_dir_of_ours_is_refused(xdg):
    run = paths.ensure_private_dir(paths.runtime_dir())
    os.chmod(run, 0o770)
    socket.socket(socket.AF_UNIX).bind(str(run / "v2m.sock"))
    with pytest.raises(V2mError, match="writable by other users") as info:
        DaemonClient(timeout_s=5)
    assert "0770" in str(info.value)


# ---- the daemon down, and the daemon up ----

def test_missing_dir_or_socket_is_still_daemon_not_running(xdg):
    with pytest.raises(DaemonNotRunning):
        DaemonClient(timeout_s=5)
    paths.ensure_private_dir(paths.runtime_dir())
    with pytest.raises(DaemonNotRunning):
        DaemonClient(timeout_s=5)
    out = subprocess.run(v2m_argv() + ["ping"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "daemon is not running" in out.stderr


def test_our_own_daemon_is_trusted(daemon):  # noqa: F811
    with DaemonClient(timeout_s=10) as client:
        assert client.call("PING")["message"] == "PONG"


# ---- the C fast client ----

@pytest.fixture(scope="module")
def fastclient(tmp_path_factory) -> Path:
    if not shutil.which("gcc"):
        pytest.fail("gcc is needed to build the C fast client (make apt)")
    out = tmp_path_factory.mktemp("fastclient") / "v2m"
    # build.sh generates the client's header from the Python CLI, then runs gcc
    flags = ["-O2", "-Wall", "-Wextra", "-Werror", "-static", "-s"]  # the release's, and -Werror
    build = subprocess.run(["bash", str(ROOT / "build" / "fastclient" / "build.sh"), str(out), *flags],
                           capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert build.returncode == 0, build.stderr
    return out


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("command", ["toggle", "ping", "stop"])
def test_fast_client_refuses(fastclient, setup, command, request):
    attacker = request.getfixturevalue(setup)
    out = subprocess.run([str(fastclient), command], capture_output=True, text=True, timeout=30, env=attacker.env())
    assert_refused(out, attacker.shown_path)
    if setup in ("attacker_dir", "foreign_peer"):
        assert f"uid {ATTACKER_UID}" in out.stderr
    assert attacker.received() == ""


def test_fast_client_messages_match_the_python_client(fastclient, attacker_dir, foreign_peer):
    for attacker in (attacker_dir, foreign_peer):
        env = attacker.env()
        c = subprocess.run([str(fastclient), "ping"], capture_output=True, text=True, timeout=30, env=env)
        py = subprocess.run(v2m_argv() + ["ping"], capture_output=True, text=True, timeout=30, env=env)
        assert c.stderr == py.stderr and c.returncode == py.returncode == 1


def test_fast_client_daemon_down_and_up(fastclient, daemon):  # noqa: F811
    out = subprocess.run([str(fastclient), "ping"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout == "PONG\n", out.stderr
    down = subprocess.run([str(fastclient), "ping"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(paths.runtime_dir() / "nope")})
    assert down.returncode == 1 and "daemon is not running" in down.stderr
