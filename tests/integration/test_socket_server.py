"""The daemon's socket server on a real Unix socket in a temp runtime dir."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import raw_connect, read_frame, send
from v2m.config import paths
from v2m.ipc import protocol
from v2m.ipc.client import DaemonClient
from v2m.ipc.instance_lock import InstanceLock
from v2m.domain.errors import DaemonAlreadyRunning, InsecureRuntimeDir


def test_directory_is_0700_and_socket_0600(daemon):
    assert stat.S_IMODE(os.stat(paths.runtime_dir()).st_mode) == 0o700
    st = os.lstat(paths.socket_path())
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.getuid()


def test_existing_runtime_dir_with_loose_mode_is_tightened(xdg):
    d = paths.runtime_dir()
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    paths.ensure_private_dir(d)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a directory owned by another uid")
def test_runtime_dir_owned_by_someone_else_is_refused(xdg):
    d = paths.runtime_dir()
    d.mkdir(mode=0o700)
    os.chown(d, 65534, 65534)
    with pytest.raises(InsecureRuntimeDir) as info:
        paths.ensure_private_dir(d)
    assert "uid 65534" in str(info.value)


def test_runtime_dir_that_is_a_symlink_is_refused(xdg, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    paths.runtime_dir().symlink_to(target)
    with pytest.raises(InsecureRuntimeDir):
        paths.ensure_private_dir(paths.runtime_dir())


def test_many_requests_on_one_connection(daemon):
    with DaemonClient() as client:
        for _ in range(100):
            assert client.call("PING") == {"message": "PONG"}
        assert client.call("GET_STATUS")["state"] == "idle"


def test_50_concurrent_clients_each_sending_20_requests(daemon):
    barrier = threading.Barrier(50)

    def client_session(n: int) -> int:
        answered = 0
        with DaemonClient(timeout_s=30) as client:
            barrier.wait()
            for i in range(20):
                cmd = "PING" if i % 2 else "GET_STATUS"
                reply = client.request(cmd)
                assert reply["status"] == "success", reply
                answered += 1
        return answered

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(client_session, range(50)))
    assert results == [20] * 50


def test_malformed_json_missing_cmd_and_unknown_command_keep_connection_usable(daemon):
    sock = raw_connect()
    body = b"{not json"
    sock.sendall(len(body).to_bytes(4, "big") + body)
    reply = read_frame(sock)
    assert reply["status"] == "error" and "not valid JSON" in reply["error"]
    sock.sendall(protocol.encode_frame({"data": {}}))
    reply = read_frame(sock)
    assert reply["status"] == "error" and '"cmd"' in reply["error"]
    reply = send(sock, "MAKE_COFFEE")
    assert reply["status"] == "error" and "unknown command 'MAKE_COFFEE'" in reply["error"]
    sock.sendall(protocol.encode_frame({"cmd": "PING", "data": [1]}))
    assert read_frame(sock)["status"] == "error"
    assert send(sock, "PING")["data"] == {"message": "PONG"}
    sock.close()


def test_oversized_frame_gets_error_then_close(daemon):
    sock = raw_connect()
    sock.sendall((protocol.MAX_FRAME_BYTES + 1).to_bytes(4, "big") + b"{}")
    reply = read_frame(sock)
    assert reply["status"] == "error" and "exceeds" in reply["error"]
    assert sock.recv(10) == b""  # closed
    sock.close()
    with DaemonClient() as client:
        assert client.call("PING")["message"] == "PONG"


def test_truncated_frame_closes_only_that_connection(daemon):
    other = raw_connect()
    sock = raw_connect()
    sock.sendall(b"\x00\x00\x01\x00" + b'{"cmd": "PI')
    sock.close()
    assert send(other, "PING")["data"]["message"] == "PONG"
    other.close()


def test_text_and_file_commands_without_data_name_what_is_missing(daemon):
    with DaemonClient() as client:
        for cmd, field in (("TRANSCRIBE_FILE", "data.path"), ("PROCESS_TEXT", "data.text"),
                           ("TRANSLATE_TEXT", "data.to")):
            reply = client.request(cmd, {"text": "hi"} if cmd == "TRANSLATE_TEXT" else {})
            assert reply["status"] == "error" and field in reply["error"], (cmd, reply)
        assert client.call("PING")["message"] == "PONG"


def test_single_instance_lock_names_the_running_pid(daemon):
    with pytest.raises(DaemonAlreadyRunning) as info:
        InstanceLock(paths.lock_path()).acquire()
    assert info.value.pid == os.getpid()
    assert f"pid {os.getpid()}" in str(info.value)


def test_lock_is_free_again_after_release(xdg):
    paths.ensure_private_dir(paths.runtime_dir())
    first = InstanceLock(paths.lock_path())
    first.acquire()
    first.release()
    assert not paths.lock_path().exists()
    second = InstanceLock(paths.lock_path())
    second.acquire()
    second.release()


def test_stale_socket_from_a_dead_daemon_is_removed(xdg):
    from v2m.bootstrap import open_config_store
    from v2m.daemon_app import DaemonApp

    paths.ensure_private_dir(paths.runtime_dir())
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(paths.socket_path()))  # a socket file nobody listens on
    dead.close()
    with pytest.raises(ConnectionRefusedError):
        raw_connect()
    lock = InstanceLock(paths.lock_path())
    lock.acquire()
    app = DaemonApp(open_config_store())
    app.start()
    try:
        with DaemonClient() as client:
            assert client.call("PING")["message"] == "PONG"
    finally:
        app.stop()
        assert app.worker.join(120)
        lock.release()
    assert not paths.socket_path().exists()


def test_subscribe_stream_receives_state_events(daemon):
    stream = DaemonClient(timeout_s=5)
    events = stream.events()
    got: list[dict] = []
    reader = threading.Thread(target=lambda: got.extend(next(events) for _ in range(2)))
    reader.start()
    with DaemonClient() as client:
        client.call("PAUSE_DAEMON")
        client.call("RESUME_DAEMON")
    reader.join(5)
    stream.close()
    assert [(e["type"], e["state"]) for e in got] == [("state_changed", "paused"), ("state_changed", "idle")]


def test_subscriber_stream_ends_when_daemon_stops(daemon):
    stream = DaemonClient(timeout_s=5)
    events = stream.events()
    ended = threading.Event()
    threading.Thread(target=lambda: (list(events), ended.set()), daemon=True).start()
    daemon.stop_requested.set()
    daemon.server.stop()
    assert ended.wait(5)
    stream.close()


PEER_SCRIPT = r"""
import ctypes, json, os, socket, struct, sys
os.seteuid(65534)                       # SO_PEERCRED reports the effective uid
ctypes.CDLL(None, use_errno=True).setfsuid(0)  # but keep root's file access to reach the 0700 dir
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = json.dumps({"cmd": "PING", "data": {}}).encode()
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except BrokenPipeError:  # refused before we finished sending; the reply is still there
    pass
data = b""
try:
    while chunk := s.recv(65536):
        data += chunk
except ConnectionResetError:  # closed with our request unread: also a disconnect
    pass
print(data[4:].decode())
"""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another uid")
def test_other_uid_gets_error_reply_and_is_disconnected(daemon):
    out = subprocess.run([sys.executable, "-c", PEER_SCRIPT, str(paths.socket_path())],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    import json
    reply = json.loads(out.stdout)  # the read loop ended: the server closed the connection
    assert reply["status"] == "error" and "uid 65534" in reply["error"]
    with DaemonClient() as client:
        assert client.call("PING")["message"] == "PONG"


def test_update_config_writes_user_file_keeping_comments(daemon, xdg):
    user = paths.config_file()
    user.parent.mkdir(parents=True)
    user.write_text("# my settings\n[log]\n# keep this comment\nlevel = \"info\"  # trailing\n")
    with DaemonClient() as client:
        client.call("UPDATE_CONFIG", {"log": {"level": "debug"}})
        assert client.call("GET_CONFIG")["config"]["log"]["level"] == "debug"
    text = user.read_text()
    assert "# my settings" in text and "# keep this comment" in text and "# trailing" in text
    assert 'level = "debug"' in text


def test_bad_update_leaves_file_and_running_config_untouched(daemon, xdg):
    user = paths.config_file()
    user.parent.mkdir(parents=True)
    original = "[log]\nlevel = \"warning\"\n"
    user.write_text(original)
    with DaemonClient() as client:
        before = client.call("GET_CONFIG")["config"]
        for bad in ({"log": {"level": 5}}, {"log": {"nope": 1}}, {"nosection": {"x": 1}}, {"log": "x"}):
            reply = client.request("UPDATE_CONFIG", bad)
            assert reply["status"] == "error", bad
            assert str(user) in reply["error"]
        assert client.call("GET_CONFIG")["config"] == before
    assert user.read_text() == original
