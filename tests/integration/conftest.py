from __future__ import annotations

import socket

import pytest

from v2m.config import paths
from v2m.ipc import protocol
from v2m.ipc.instance_lock import InstanceLock


@pytest.fixture
def daemon(xdg):
    """The real daemon (real socket, real config store) running in-process."""
    from v2m.bootstrap import open_config_store
    from v2m.daemon_app import DaemonApp

    paths.ensure_private_dir(paths.runtime_dir())
    lock = InstanceLock(paths.lock_path())
    lock.acquire()
    app = DaemonApp(open_config_store())
    app.start()
    yield app
    app.stop()
    # Its ASR thread is a daemon thread, as in the daemon, which exits without
    # it; a test process must not reach its own exit with a model load in it.
    assert app.worker.join(120)
    lock.release()


def raw_connect(timeout_s: float = 5.0) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    sock.connect(str(paths.socket_path()))
    _pending.pop(id(sock), None)
    return sock


_pending: dict[int, tuple[protocol.FrameDecoder, list[bytes]]] = {}


def read_frame(sock: socket.socket) -> dict | None:
    """One reply, or None if the server closed the connection.

    Frames that arrive together are kept for the next call on that socket.
    """
    decoder, frames = _pending.setdefault(id(sock), (protocol.FrameDecoder(), []))
    while not frames:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        frames += decoder.feed(chunk)
    return protocol.decode_payload(frames.pop(0))


def send(sock: socket.socket, cmd: str, data: dict | None = None) -> dict | None:
    sock.sendall(protocol.encode_frame(protocol.request(cmd, data)))
    return read_frame(sock)
