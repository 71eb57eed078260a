"""Hostile clients on the daemon's socket: JSON at the extremes of depth and
size, connections that never finish a frame or never read, replies too big
for a frame. The daemon answers each with a clear error, keeps serving the
others, and stops within 2 s whatever the clients do."""

from __future__ import annotations

import json
import os
import socket
import stat
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import raw_connect, read_frame, send
from v2m.config import paths
from v2m.ipc import protocol, server as server_module
from v2m.ipc.client import DaemonClient
from v2m.ipc.events import EventBus
from v2m.ipc.reply_spill import is_spilled, read_spilled
from v2m.ipc.server import SocketServer

FUZZ_EXAMPLES = 300

leaves = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
          | st.text(max_size=40) | st.tuples(st.characters(), st.integers(1, 400_000)).map(lambda t: t[0] * t[1]))
shapes = st.recursive(leaves, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids,
                                                                                         max_size=3), max_leaves=8)
nesting = st.integers(1, 200_000).map(lambda depth: "[" * depth + "]" * depth)
commands = st.sampled_from(["PING", "GET_STATUS", "GET_CONFIG", "UPDATE_CONFIG", "PROCESS_TEXT", "TRANSCRIBE_FILE",
                            "CANCEL_RECORDING", "STOP_RECORDING"]) | st.text(max_size=30)


def framed(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(cmd=commands, data=shapes, deep=nesting)
def test_any_json_shape_gets_a_reply_and_the_next_request_still_works(daemon, cmd, data, deep):
    sock = raw_connect(timeout_s=20)
    try:
        bodies = [json.dumps({"cmd": cmd, "data": data}).encode(), f'{{"cmd": "PING", "data": {deep}}}'.encode(),
                  deep.encode(), json.dumps({"cmd": "PING"}).encode()]
        bodies = [b for b in bodies if len(b) <= protocol.MAX_FRAME_BYTES]
        sock.sendall(b"".join(framed(b) for b in bodies))  # pipelined: one write
        replies = [read_frame(sock) for _ in bodies]
        assert all(r is not None and r["status"] in ("success", "error") for r in replies), replies
        assert replies[-1] == protocol.success({"message": "PONG"})
        assert all(len(json.dumps(r)) < 8192 for r in replies if r["status"] == "error")
    finally:
        sock.close()


def test_100k_nested_lists_get_an_error_and_a_pipelined_ping_its_pong(daemon):
    """Review finding: deep JSON dropped the connection and the request behind it."""
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    sock = raw_connect()
    sock.sendall(framed(deep) + framed(b'{"cmd": "PING"}'))
    first, second = read_frame(sock), read_frame(sock)
    assert first["status"] == "error" and "nested too deeply" in first["error"]
    assert second == protocol.success({"message": "PONG"})


def test_a_1_mib_command_name_is_not_echoed(daemon):
    """Review finding: the unknown `cmd` went whole into an error too big to send."""
    cmd = "X" * (protocol.MAX_FRAME_BYTES - 64)
    sock = raw_connect()
    reply = send(sock, cmd)
    assert reply["status"] == "error" and "unknown command" in reply["error"]
    assert len(reply["error"]) < 2000
    assert send(sock, "PING")["data"] == {"message": "PONG"}


def test_128_half_sent_frames_do_not_lock_the_keybinding_out(daemon):
    """Review finding: 128 connections each holding half a frame kept
    `v2m toggle` refused for 30 s or more."""
    squatters = []
    for _ in range(140):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(paths.socket_path()))
        sock.sendall(b"\x00\x00")  # half a header, never finished
        squatters.append(sock)
    started = time.monotonic()
    with DaemonClient(timeout_s=5) as client:
        assert client.call("PING") == {"message": "PONG"}
    assert time.monotonic() - started < 2
    for sock in squatters:
        sock.close()


def test_a_half_sent_frame_times_out_with_an_error(monkeypatch, daemon):
    monkeypatch.setattr(server_module, "PARTIAL_FRAME_TIMEOUT_S", 0.3)
    sock = raw_connect()
    sock.sendall(b"\x00\x00\x00\x10{")
    reply = read_frame(sock)
    assert reply["status"] == "error" and "rest of a frame" in reply["error"]
    assert read_frame(sock) is None  # and the connection is closed


def test_subscribers_that_never_read_are_dropped_and_shutdown_takes_under_2_s(daemon):
    """Review finding: 50 subscribers that never read held their threads and
    slots, and SHUTDOWN took 100 s (2 s each)."""
    subscribers = []
    for _ in range(server_module.MAX_SUBSCRIBERS):
        sock = raw_connect()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert send(sock, "SUBSCRIBE")["data"] == {"subscribed": True}
        subscribers.append(sock)  # and never read again
    extra = raw_connect()
    assert send(extra, "SUBSCRIBE")["status"] == "error"  # the cap
    deadline = time.monotonic() + 10
    while daemon.bus.subscriber_count < server_module.MAX_SUBSCRIBERS:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for _ in range(200):  # 2 MB of events: far past any socket buffer
        daemon.bus.publish({"type": "noise", "pad": "x" * 10_000})
    with DaemonClient(timeout_s=5) as client:
        assert client.call("PING") == {"message": "PONG"}
    deadline = time.monotonic() + 5
    while daemon.bus.subscriber_count:  # each is dropped at its first full buffer
        assert time.monotonic() < deadline, f"{daemon.bus.subscriber_count} stuck subscribers remain"
        time.sleep(0.01)
    started = time.monotonic()
    daemon.server.stop()
    assert time.monotonic() - started < 2.0
    for sock in subscribers:
        sock.close()


def test_shutdown_takes_under_2_s_with_clients_that_never_read_replies(daemon):
    hogs = []
    for _ in range(20):
        sock = raw_connect()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(framed(json.dumps({"cmd": "GET_CONFIG"}).encode()) * 200)  # replies it never reads
        hogs.append(sock)
    time.sleep(0.2)  # let the replies pile up
    started = time.monotonic()
    daemon.server.stop()
    assert time.monotonic() - started < 2.5
    for sock in hogs:
        sock.close()


@pytest.fixture
def big_reply_server(xdg):
    """The real socket server, with a command whose reply is over a frame."""
    paths.ensure_private_dir(paths.runtime_dir())
    big = {"transcription": "word " * 400_000}  # 2 MB, like hours of speech with word times

    def dispatch(message):
        return protocol.success(big) if message.get("cmd") == "BIG" else protocol.success({"message": "PONG"})
    srv = SocketServer(paths.socket_path(), dispatch, EventBus())
    srv.start()
    yield srv, big
    srv.stop()


def test_a_reply_over_1_mib_arrives_whole_through_a_private_file(big_reply_server):
    """Review finding: replies over 1 MiB were dropped; the client saw only a
    closed connection."""
    _, big = big_reply_server
    sock = raw_connect()
    pointer = send(sock, "BIG")
    assert pointer["status"] == "success" and is_spilled(pointer), str(pointer)[:200]
    path = pointer["data"]["reply_file"]
    st_ = os.lstat(path)
    assert stat.S_IMODE(st_.st_mode) == 0o600 and st_.st_uid == os.getuid()
    assert read_spilled(pointer, paths.runtime_dir())["data"] == big
    assert not os.path.exists(path)  # read once, then gone
    assert send(sock, "PING")["data"] == {"message": "PONG"}  # same connection, still in sync
    with DaemonClient() as client:
        assert client.call("BIG") == big  # the client follows the pointer itself
