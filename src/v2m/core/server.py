"""The daemon's Unix socket server: one thread per connection.

Threads keep handlers simple (they may block on transcription) and cost
nothing while idle: every thread sleeps in a blocking call, none polls.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from v2m.core import protocol
from v2m.core.events import EventBus

log = logging.getLogger(__name__)

_UCRED = struct.Struct("3i")  # pid, uid, gid


def peer_credentials(conn: socket.socket) -> tuple[int, int, int]:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    return _UCRED.unpack(raw)


class SocketServer:
    def __init__(self, path: Path, dispatch: Callable[[Mapping[str, Any]], dict[str, Any]],
                 bus: EventBus, *, max_connections: int = 128) -> None:
        self.path = path
        self._dispatch = dispatch
        self._bus = bus
        self._slots = threading.BoundedSemaphore(max_connections)
        self._uid = os.getuid()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._accept_thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is born 0600: no window at 0755
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, name="v2m-accept", daemon=True)
        self._accept_thread.start()
        log.info("listening on %s", self.path)

    def stop(self, timeout_s: float = 2.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        os.write(self._wake_w, b"x")
        if self._accept_thread:
            self._accept_thread.join(timeout_s)
        if self._listener:
            self._listener.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self._bus.close()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            # Ends blocked reads; a reply being written still goes out.
            try:
                conn.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(timeout_s)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            ready, _, _ = select.select([self._listener, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                conn, _ = self._listener.accept()
            except OSError as exc:
                log.warning("accept failed: %s", exc)
                continue
            if not self._slots.acquire(blocking=False):
                _send_quietly(conn, protocol.error("too many connections; try again"))
                conn.close()
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), name="v2m-conn", daemon=True)
            self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.add(conn)
        try:
            pid, uid, _ = peer_credentials(conn)
            if uid != self._uid:
                log.warning("refused a connection from uid %d (pid %d)", uid, pid)
                _send_quietly(conn, protocol.error(f"permission denied: uid {uid} may not use this daemon"))
                return
            self._serve_requests(conn)
        except OSError as exc:
            log.debug("connection ended: %s", exc)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()
            self._slots.release()
            self._threads.discard(threading.current_thread())

    def _serve_requests(self, conn: socket.socket) -> None:
        decoder = protocol.FrameDecoder()
        while True:
            data = conn.recv(65536)
            if not data:
                if decoder.pending:
                    log.info("client closed the connection mid-frame (%d bytes)", decoder.pending)
                return
            try:
                payloads = decoder.feed(data)
            except protocol.ProtocolError as exc:
                _send_quietly(conn, protocol.error(str(exc)))
                return  # the stream is out of sync: close it
            for payload in payloads:
                try:
                    message = protocol.decode_payload(payload)
                except protocol.ProtocolError as exc:
                    conn.sendall(protocol.encode_frame(protocol.error(str(exc))))
                    continue
                if message.get("cmd") == "SUBSCRIBE":
                    self._stream_events(conn)
                    return
                conn.sendall(protocol.encode_frame(self._dispatch(message)))

    def _stream_events(self, conn: socket.socket) -> None:
        """Send events until the client hangs up or the daemon stops."""
        sub = self._bus.subscribe()
        conn.sendall(protocol.encode_frame(protocol.success({"subscribed": True})))
        writer = threading.Thread(target=_pump_events, args=(conn, sub), name="v2m-events", daemon=True)
        writer.start()
        try:
            # The client sends nothing more; reading only tells us when it leaves.
            while conn.recv(4096):
                pass
        except OSError:
            pass
        finally:
            sub.close()
            writer.join()


def _pump_events(conn: socket.socket, sub: Any) -> None:
    while (event := sub.get()) is not None:
        try:
            conn.sendall(protocol.encode_frame(protocol.event(event)))
        except OSError:
            sub.close()
            return
    # The daemon is stopping: let the client see the stream end.
    try:
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _send_quietly(conn: socket.socket, message: dict[str, Any]) -> None:
    try:
        conn.sendall(protocol.encode_frame(message))
    except OSError:
        pass
