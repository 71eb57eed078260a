"""The daemon's Unix socket server: one thread per connection.

Threads keep handlers simple (they may block on transcription) and cost
nothing while idle: every thread sleeps in a blocking call, none polls.

Every resource a client can hold is bounded: a connection slot (the idlest
is evicted when all are taken), time (idle and half-sent connections time
out, replies must be read), subscriptions (capped, and a subscriber whose
socket buffer is full is dropped at once), and shutdown (2 s in all).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import select
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from v2m.ipc import protocol
from v2m.ipc.events import EventBus
from v2m.ipc.reply_spill import ReplySpill

log = logging.getLogger(__name__)

_UCRED = struct.Struct("3i")  # pid, uid, gid

IDLE_TIMEOUT_S = 120.0        # between requests
PARTIAL_FRAME_TIMEOUT_S = 5.0  # the rest of a frame once its first byte came
SEND_TIMEOUT_S = 5.0          # for the client to take a reply
MAX_SUBSCRIBERS = 32


def peer_credentials(conn: socket.socket) -> tuple[int, int, int]:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    return _UCRED.unpack(raw)


@dataclasses.dataclass(eq=False)
class _Conn:
    sock: socket.socket
    last_active: float
    busy: bool = False        # a handler is running for it: never evicted
    subscriber: bool = False


class SocketServer:
    def __init__(self, path: Path, dispatch: Callable[[Mapping[str, Any]], dict[str, Any]],
                 bus: EventBus, *, max_connections: int = 128) -> None:
        self.path = path
        self._dispatch = dispatch
        self._bus = bus
        self._max = max_connections
        self._uid = os.getuid()
        self._spill = ReplySpill(path.parent)
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._conns: dict[socket.socket, _Conn] = {}
        self._lock = threading.Lock()
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
        listener.listen(socket.SOMAXCONN)  # a burst of connects queues instead of failing with EAGAIN
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, name="v2m-accept", daemon=True)
        self._accept_thread.start()
        log.info("listening on %s", self.path)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Close everything within `timeout_s`, whatever the clients do."""
        if self._stopped:
            return
        self._stopped = True
        deadline = time.monotonic() + timeout_s
        os.write(self._wake_w, b"x")
        if self._accept_thread:
            self._accept_thread.join(timeout_s / 4)
        if self._listener:
            self._listener.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self._bus.close()
        # First end the reads: a reply being written (SHUTDOWN's own) still goes out...
        self._shutdown_all(socket.SHUT_RD)
        self._join_threads(time.monotonic() + timeout_s / 2)
        # ...then the writes, which wakes a send blocked on a client that never reads.
        self._shutdown_all(socket.SHUT_RDWR)
        self._join_threads(deadline)
        self._spill.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _shutdown_all(self, how: int) -> None:
        with self._lock:
            socks = list(self._conns)
        for sock in socks:
            try:
                sock.shutdown(how)
            except OSError:
                pass

    def _join_threads(self, deadline: float) -> None:
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

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
            if not self._admit(conn):
                _send_quietly(conn, protocol.error("too many connections; try again"))
                conn.close()
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), name="v2m-conn", daemon=True)
            self._threads.add(thread)
            thread.start()

    def _admit(self, sock: socket.socket) -> bool:
        """Take a slot; when all are taken, evict the connection idle longest
        (not one in a request, not a subscriber), so clients that open
        connections and never finish a frame cannot lock the keybinding out."""
        with self._lock:
            if len(self._conns) >= self._max:
                idle = [c for c in self._conns.values() if not c.busy and not c.subscriber]
                if not idle:
                    return False
                victim = min(idle, key=lambda c: c.last_active)
                del self._conns[victim.sock]
                try:
                    victim.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                log.info("all %d connection slots taken: evicted the idlest connection", self._max)
            self._conns[sock] = _Conn(sock, time.monotonic())
        return True

    def _serve(self, conn: socket.socket) -> None:
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
            with self._lock:
                self._conns.pop(conn, None)
            conn.close()
            self._threads.discard(threading.current_thread())

    def _serve_requests(self, conn: socket.socket) -> None:
        decoder = protocol.FrameDecoder()
        while True:
            conn.settimeout(PARTIAL_FRAME_TIMEOUT_S if decoder.pending else IDLE_TIMEOUT_S)
            try:
                data = conn.recv(65536)
            except socket.timeout:
                if decoder.pending:
                    _send_quietly(conn, protocol.error(
                        f"timed out after {PARTIAL_FRAME_TIMEOUT_S:g} s waiting for the rest of a frame"))
                return
            if not data:
                if decoder.pending:
                    log.info("client closed the connection mid-frame (%d bytes)", decoder.pending)
                return
            self._touch(conn, busy=True)
            try:
                payloads = decoder.feed(data)
            except protocol.ProtocolError as exc:
                _send_quietly(conn, protocol.error(str(exc)))
                return  # the stream is out of sync: close it
            for payload in payloads:
                try:
                    message = protocol.decode_payload(payload)
                except protocol.ProtocolError as exc:
                    self._send(conn, protocol.error(str(exc)))
                    continue
                if message.get("cmd") == "SUBSCRIBE":
                    self._stream_events(conn)
                    return
                self._send(conn, self._dispatch(message))
            self._touch(conn, busy=False)

    def _touch(self, conn: socket.socket, busy: bool) -> None:
        with self._lock:
            record = self._conns.get(conn)
            if record is not None:
                record.busy, record.last_active = busy, time.monotonic()

    def _send(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        conn.settimeout(SEND_TIMEOUT_S)
        conn.sendall(self._frame(reply))

    def _frame(self, reply: dict[str, Any]) -> bytes:
        """The reply as a frame; one too big for a frame goes to a private
        file whose path the frame carries, never a silent drop."""
        try:
            return protocol.encode_frame(reply)
        except protocol.ProtocolError:
            return protocol.encode_frame(self._spill.write(reply))
        except (ValueError, TypeError, RecursionError) as exc:
            log.error("reply could not be encoded: %s", exc)
            return protocol.encode_frame(protocol.error("internal error: the reply could not be encoded; "
                                                        "see the daemon log"))

    def _stream_events(self, conn: socket.socket) -> None:
        """Send events until the client hangs up or the daemon stops."""
        with self._lock:
            subscribers = sum(c.subscriber for c in self._conns.values())
            if subscribers >= MAX_SUBSCRIBERS:
                refused = True
            else:
                refused = False
                self._conns[conn].subscriber = True
        if refused:
            self._send(conn, protocol.error(f"too many subscribers ({MAX_SUBSCRIBERS}); close one"))
            return
        sub = self._bus.subscribe()
        self._send(conn, protocol.success({"subscribed": True}))
        writer = threading.Thread(target=_pump_events, args=(conn, sub), name="v2m-events", daemon=True)
        writer.start()
        try:
            conn.settimeout(None)  # a status bar may listen for days
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
            _send_now(conn, protocol.encode_frame(protocol.event(event)))
        except (OSError, protocol.ProtocolError) as exc:
            # A full socket buffer means the client stopped reading: drop it
            # now rather than hold a thread on it. Its reader then ends too.
            log.info("dropping an event subscriber: %s", exc)
            sub.close()
            break
    # The stream ends (daemon stopping, or a dropped subscriber): say so.
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _send_now(conn: socket.socket, frame: bytes) -> None:
    """Send without waiting: BlockingIOError when the peer's buffer is full."""
    view = memoryview(frame)
    while view:
        sent = conn.send(view, socket.MSG_DONTWAIT)
        view = view[sent:]


def _send_quietly(conn: socket.socket, message: dict[str, Any]) -> None:
    try:
        conn.settimeout(SEND_TIMEOUT_S)
        conn.sendall(protocol.encode_frame(message))
    except OSError:
        pass
