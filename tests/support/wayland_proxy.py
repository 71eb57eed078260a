"""A compositor without some Wayland protocols, made from a real one.

GNOME and KDE do not offer the virtual-keyboard protocol that wtype needs.
`HidingProxy` stands between clients and a real compositor (the sway
fixture), forwards every byte and file descriptor both ways, and drops the
wl_registry.global events that announce the hidden interfaces, so that a
client sees a compositor without them: wtype then says "Compositor does not
support the virtual keyboard protocol", as on GNOME, while wl-copy still
works.

    proxy = HidingProxy(sway.wayland_display, {"zwp_virtual_keyboard_manager_v1"}).start()
    env = {**sway.client_env(), "WAYLAND_DISPLAY": proxy.path}
    ...
    proxy.stop()

Wire format: each message is an object id (u32), then size << 16 | opcode
(u32), then the arguments; a string is a u32 length (with its NUL) and the
bytes, padded to 4. wl_display (object 1) request 1 is get_registry(new_id);
wl_registry event 0 is global(name u32, interface string, version u32).
"""

from __future__ import annotations

import array
import contextlib
import os
import socket
import struct
import tempfile
import threading

MAX_FDS = 28


def _recv(sock: socket.socket) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    data, ancillary, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def _send(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    try:
        if fds:
            sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            data = data[sent:]
        if data:
            sock.sendall(data)
    finally:
        for fd in fds:
            os.close(fd)


def _messages(buffer: bytearray):
    """Complete messages at the head of `buffer`, removed from it."""
    while len(buffer) >= 8:
        obj, word = struct.unpack_from("=II", buffer)
        size = word >> 16
        if size < 8 or len(buffer) < size:
            return
        message = bytes(buffer[:size])
        del buffer[:size]
        yield obj, word & 0xFFFF, message


class HidingProxy:
    def __init__(self, upstream: str, hidden: set[str]) -> None:
        self.upstream, self.hidden = upstream, hidden
        self.dir = tempfile.mkdtemp(prefix="v2m-wlproxy-")
        self.path = os.path.join(self.dir, "wayland-proxy")
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> HidingProxy:
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        threading.Thread(target=self._accept, name="wl-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        for sock in [self._listener, *self._open]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(self.dir)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.upstream)
            self._open += [client, server]
            registries: set[int] = set()
            threading.Thread(target=self._pump, args=(client, server, registries, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, registries, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, registries: set[int], to_server: bool) -> None:
        pending, held = bytearray(), []  # fds wait for bytes to travel with
        try:
            while True:
                data, fds = _recv(src)
                if not data:
                    break
                pending += data
                held += fds
                out = bytearray()
                for obj, opcode, message in _messages(pending):
                    if to_server and obj == 1 and opcode == 1:  # wl_display.get_registry
                        registries.add(struct.unpack_from("=I", message, 8)[0])
                    if not to_server and obj in registries and opcode == 0 and self._hides(message):
                        continue
                    out += message
                if out:
                    _send(dst, bytes(out), held)
                    held = []
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)

    def _hides(self, message: bytes) -> bool:
        length = struct.unpack_from("=I", message, 12)[0]
        interface = message[16:16 + length - 1].decode(errors="replace")
        return interface in self.hidden
