"""Typing on Wayland through the virtual-keyboard protocol, spoken directly.

wtype, the usual tool, sleeps 2 ms after each key press and release and
waits for a round trip after each: about 200 characters a second at best.
This client speaks the same protocol (zwp_virtual_keyboard_v1, offered by
wlroots compositors: sway, Hyprland, river, labwc, Wayfire) with the standard
library: it uploads a keymap holding the text's characters, then sends each
key's press and release, about 1 ms per character (a round trip every
`BATCH` characters), so that an app that stalls for a while is not sent more
than its connection can hold (libwayland disconnects a client whose buffer
overflows).

Wire format: a message is the object id (u32), size << 16 | opcode (u32), then
the arguments (u32 each; a string is its length with the NUL, the bytes, and
padding to 4); file descriptors travel beside it (SCM_RIGHTS).
"""

from __future__ import annotations

import array
import os
import socket
import struct
import time

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.desktop_tools import TypingUnavailable

MANAGER = "zwp_virtual_keyboard_manager_v1"
REFUSED = "the compositor does not support the virtual keyboard protocol (as GNOME and KDE)"
BATCH = 10                # characters between round trips
PAUSE_PER_CHAR_S = 0.001
MAX_KEYS = 200            # distinct characters per keymap (X apps through Xwayland: keycodes < 256)
SPECIAL = {"\n": "Return", "\t": "Tab"}


class ProtocolMissing(TypingUnavailable):
    """The compositor does not offer the virtual-keyboard protocol."""


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("=I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def socket_path() -> str:
    display = os.environ.get("WAYLAND_DISPLAY", "wayland-0")
    return display if os.path.isabs(display) else os.path.join(os.environ.get("XDG_RUNTIME_DIR", ""), display)


def keysym_name(char: str) -> str:
    return SPECIAL.get(char) or f"U{ord(char):04X}"


def keymap(names: list[str]) -> bytes:
    """An XKB keymap with one single-level key per keysym name (as wtype's)."""
    codes = "".join(f"<K{i}> = {i + 9};\n" for i in range(len(names)))
    syms = "".join(f"key <K{i}> {{[ {name} ]}};\n" for i, name in enumerate(names))
    text = (f'xkb_keymap {{\nxkb_keycodes "v2m" {{\nminimum = 8;\nmaximum = {len(names) + 9};\n{codes}}};\n'
            'xkb_types "v2m" {};\nxkb_compatibility "v2m" {};\n'
            f'xkb_symbols "v2m" {{\n{syms}}};\n}};\n')
    return text.encode() + b"\0"


class VirtualKeyboard:
    """One connection, one virtual keyboard; `type_text`, then `close`."""

    def __init__(self, path: str | None = None, *, create: bool = True) -> None:
        """Connect; with `create`, add a virtual keyboard to the seat (else
        only check that the compositor offers the protocol)."""
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(5.0)
        try:
            self._sock.connect(path or socket_path())
        except OSError as exc:
            self._sock.close()
            raise OutputError(f"cannot connect to the Wayland compositor at {path or socket_path()}: {exc}") from None
        self._next_id, self._buffer, self._globals = 2, bytearray(), {}
        self._pending: set[int] = set()
        self._registry = self._new_id()
        self._send(1, 1, struct.pack("=I", self._registry))  # wl_display.get_registry
        self._roundtrip()
        if MANAGER not in self._globals or "wl_seat" not in self._globals:
            self.close()
            raise ProtocolMissing(REFUSED)
        if not create:
            return
        seat = self._bind("wl_seat", 1)
        manager = self._bind(MANAGER, 1)
        self._keyboard = self._new_id()
        self._send(manager, 0, struct.pack("=II", seat, self._keyboard))  # create_virtual_keyboard
        self._t0 = time.monotonic()

    def type_text(self, text: str, delay_ms: int = 0) -> None:
        chars = [c for c in text if c in SPECIAL or ord(c) >= 0x20]
        while chars:
            head, distinct = [], []
            for c in chars:
                if c not in distinct:
                    if len(distinct) == MAX_KEYS:
                        break
                    distinct.append(c)
                head.append(c)
            self._upload([keysym_name(c) for c in distinct])
            for i, c in enumerate(head, 1):
                self._key(distinct.index(c) + 1)
                if delay_ms > 0 or i % BATCH == 0:
                    self._roundtrip()
                    time.sleep(delay_ms / 1000 if delay_ms > 0 else BATCH * PAUSE_PER_CHAR_S)
            chars = chars[len(head):]
        self._roundtrip()  # every key is with the compositor

    def press(self, mods: int, key: str) -> None:
        """Press `key` (a keysym name) with the modifier mask `mods` held
        (Shift 1, Control 4, Mod1/Alt 8, Mod4/Super 64)."""
        self._upload([key])
        self._send(self._keyboard, 2, struct.pack("=IIII", mods, 0, 0, 0))  # modifiers
        self._key(1)
        self._send(self._keyboard, 2, struct.pack("=IIII", 0, 0, 0, 0))
        self._roundtrip()

    def hold(self) -> None:
        """Stay in the seat as its keyboard, typing nothing (until `close`)."""
        self._upload(["space"])

    def alive(self) -> bool:
        """Whether the compositor still has us (what it sent meanwhile is dropped)."""
        self._sock.setblocking(False)
        try:
            while self._sock.recv(65536):
                pass
            return False  # b"": the connection is closed
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self._sock.settimeout(5.0)

    def close(self) -> None:
        try:
            if hasattr(self, "_keyboard"):
                self._send(self._keyboard, 3, b"")  # destroy
                self._roundtrip()
        except OutputError:
            pass
        finally:
            self._sock.close()

    # --- wire -------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _send(self, obj: int, opcode: int, args: bytes, fds: tuple[int, ...] = ()) -> None:
        data = struct.pack("=II", obj, (8 + len(args)) << 16 | opcode) + args
        try:
            if fds:
                self._sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            else:
                self._sock.sendall(data)
        except OSError as exc:
            raise OutputError(f"the Wayland compositor closed the connection: {exc}") from None

    def _bind(self, interface: str, version: int) -> int:
        new = self._new_id()
        self._send(self._registry, 0, struct.pack("=I", self._globals[interface]) + _string(interface)
                   + struct.pack("=II", version, new))
        return new

    def _upload(self, names: list[str]) -> None:
        data = keymap(names)
        fd = os.memfd_create("v2m-keymap", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            self._send(self._keyboard, 0, struct.pack("=II", 1, len(data)), (fd,))  # keymap(xkb_v1, fd, size)
        finally:
            os.close(fd)
        self._roundtrip()

    def _key(self, code: int) -> None:
        now = int((time.monotonic() - self._t0) * 1000) & 0xFFFFFFFF
        self._send(self._keyboard, 1, struct.pack("=III", now, code, 1))
        self._send(self._keyboard, 1, struct.pack("=III", now, code, 0))

    def _roundtrip(self) -> None:
        callback = self._new_id()
        self._pending.add(callback)
        self._send(1, 0, struct.pack("=I", callback))  # wl_display.sync
        while callback in self._pending:
            self._dispatch()

    def _dispatch(self) -> None:
        try:
            chunk = self._sock.recv(65536)
        except OSError as exc:
            raise OutputError(f"no answer from the Wayland compositor: {exc}") from None
        if not chunk:
            raise OutputError("the Wayland compositor closed the connection")
        self._buffer += chunk
        while len(self._buffer) >= 8:
            obj, word = struct.unpack_from("=II", self._buffer)
            size = word >> 16
            if len(self._buffer) < size:
                return
            message, self._buffer = bytes(self._buffer[8:size]), self._buffer[size:]
            self._event(obj, word & 0xFFFF, message)

    def _event(self, obj: int, opcode: int, args: bytes) -> None:
        if obj == 1 and opcode == 0:  # wl_display.error(object, code, message)
            length = struct.unpack_from("=I", args, 8)[0]
            raise OutputError(f"Wayland protocol error: {args[12:12 + length - 1].decode(errors='replace')}")
        if obj == self._registry and opcode == 0:  # global(name, interface, version)
            length = struct.unpack_from("=I", args, 4)[0]
            interface = args[8:8 + length - 1].decode(errors="replace")
            self._globals.setdefault(interface, struct.unpack_from("=I", args, 0)[0])
        elif opcode == 0 and obj in self._pending:
            self._pending.discard(obj)  # wl_callback.done


def type_text(text: str, delay_ms: int = 0) -> None:
    keyboard = VirtualKeyboard()
    try:
        keyboard.type_text(text, delay_ms)
    except OutputError as exc:
        exc.partial = True  # some keys may have been typed: no other tool should start over
        raise
    finally:
        keyboard.close()


MOD_MASKS = {"shift": 1, "ctrl": 4, "alt": 8, "super": 64}


def offered() -> bool:
    """Whether the compositor offers the virtual-keyboard protocol (raises
    OutputError when it cannot be reached)."""
    try:
        VirtualKeyboard(create=False).close()
    except ProtocolMissing:
        return False
    return True


def press(mods: tuple[str, ...], key: str) -> None:
    keyboard = VirtualKeyboard()
    try:
        mask = 0
        for mod in mods:
            mask |= MOD_MASKS[mod]
        keyboard.press(mask, key if len(key) > 1 else keysym_name(key))
    finally:
        keyboard.close()
