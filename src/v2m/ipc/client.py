"""Blocking socket client for the daemon. Standard library only: it runs on
every `v2m toggle`, which must start fast."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Iterator

from v2m.config import paths
from v2m.ipc import peer_trust, protocol, reply_spill
from v2m.domain.errors import DaemonError, DaemonNotRunning, DaemonTimeout, V2mError


DEFAULT_TIMEOUT_S = 10.0
# Replies are up to a frame (1 MiB); bigger ones come through a file (reply_spill).
# The bound only stops a runaway peer from filling memory.
MAX_REPLY_BYTES = 64 * protocol.MAX_FRAME_BYTES


def _replace_lone_surrogates(value: Any) -> Any:
    """JSON may carry "\ud800" alone, which no terminal can print: U+FFFD instead."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") \
            if any("\ud800" <= ch <= "\udfff" for ch in value) else value
    if isinstance(value, dict):
        return {k: _replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    return value


class DaemonClient:
    def __init__(self, path: Path | None = None, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> None:
        self.path = Path(path) if path else paths.socket_path()
        # Only our own daemon: another user may own the path (see peer_trust).
        peer_trust.check_socket_path(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout_s)
        try:
            self._connect(timeout_s)
            peer_trust.check_peer(self._sock, self.path)
        except (FileNotFoundError, ConnectionRefusedError):
            self._sock.close()
            raise DaemonNotRunning(str(self.path)) from None
        except V2mError:
            self._sock.close()
            raise
        except OSError as exc:
            self._sock.close()
            raise V2mError(f"cannot connect to {self.path}: {exc.strerror}") from None
        self._decoder = protocol.FrameDecoder(max_frame_bytes=MAX_REPLY_BYTES)
        self._frames: list[bytes] = []

    def _connect(self, timeout_s: float | None) -> None:
        # A full listen queue (a burst of clients) answers EAGAIN at once;
        # the daemon drains it in milliseconds, so try again until the timeout.
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else 10.0)
        while True:
            try:
                self._sock.connect(str(self.path))
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def __enter__(self) -> "DaemonClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def request(self, cmd: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return the raw reply (success or error)."""
        try:
            self._sock.sendall(protocol.encode_frame(protocol.request(cmd, data)))
        except (BrokenPipeError, ConnectionResetError):
            raise V2mError("the daemon closed the connection", "see the daemon log") from None
        return self.receive()

    def call(self, cmd: str, data: dict[str, Any] | None = None) -> Any:
        """Send one request; return its data, or raise DaemonError on an error reply."""
        reply = self.request(cmd, data)
        if reply.get("status") != "success":
            raise DaemonError(str(reply.get("error") or "the daemon reported an error"))
        return reply.get("data")

    def receive(self) -> dict[str, Any]:
        while not self._frames:
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                raise DaemonTimeout("the daemon did not answer in time",
                               "see `v2m status` and the daemon log") from None
            if not chunk:
                raise V2mError("the daemon closed the connection", "see the daemon log")
            try:
                self._frames.extend(self._decoder.feed(chunk))
            except protocol.ProtocolError:
                raise V2mError(f"the daemon's reply is too big ({self._decoder.last_length} bytes; the limit is "
                               f"{MAX_REPLY_BYTES})", "see the daemon log") from None
        try:
            reply = _replace_lone_surrogates(protocol.decode_payload(self._frames.pop(0)))
        except protocol.ProtocolError:
            raise V2mError("the daemon sent a reply that is not JSON", "see the daemon log") from None
        if reply_spill.is_spilled(reply):  # too big for a frame: the daemon wrote it to a file
            return reply_spill.read_spilled(reply, self.path.parent)
        return reply

    def next_event(self, timeout_s: float | None) -> dict[str, Any] | None:
        """After SUBSCRIBE: the next event's data, or None if none came within
        `timeout_s`. Raises V2mError when the daemon closes the stream."""
        self._sock.settimeout(timeout_s)
        try:
            return self.receive().get("data", {})
        except DaemonTimeout:
            return None

    def events(self) -> Iterator[dict[str, Any]]:
        """SUBSCRIBE now: when this returns the daemon has registered us, so no
        event after it is missed. Then iterate event data until the stream ends."""
        self._sock.settimeout(None)
        self.call("SUBSCRIBE")
        return self._stream()

    def _stream(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                reply = self.receive()
            except V2mError:
                return
            yield reply.get("data", {})


def call(cmd: str, data: dict[str, Any] | None = None, *, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> Any:
    with DaemonClient(timeout_s=timeout_s) as client:
        return client.call(cmd, data)
