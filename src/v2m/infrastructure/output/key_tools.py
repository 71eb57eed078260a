"""Typing text and pressing keys in the focused window: the built-in
virtual keyboard and wtype (Wayland's virtual-keyboard protocol), ydotool
(uinput, any session, needs ydotoold) and xdotool (X11), tried in that order
where the session suits them.

A tool has failed when it exits non-zero or complains on stderr (xdotool
exits 0 after "No such key name"); its words are the reason reported.
Every failure they report happens before the first key, so the next tool
may be tried. When none can type at all (no tool, or a compositor without
the virtual-keyboard protocol, as GNOME and KDE), TypingUnavailable says so,
and the caller can put the text on the clipboard instead.

wtype's first key: where the seat has no keyboard but wtype's own (headless
and remote sessions), it gains one only when wtype starts, the app binds it
only then, and the first key or so is lost; a sleep before the first key
(wtype -s 50) shrinks that window but, measured with both cores busy, does
not close it. So where the seat has no keyboard (`seat_has_keyboard`: sway,
Hyprland), v2m gives it one, as a real desktop has: a virtual keyboard held
open for the daemon's life (reopened if the compositor drops it); the first
text typed after that waits 300 ms for the app to bind it. With a keyboard
in the seat typing starts at once; where the compositor cannot tell, after
20 ms. The same holds for the built-in virtual keyboard (wayland_keyboard.py),
which is tried before wtype: it types about 5x faster.
"""

from __future__ import annotations

import atexit
import os
import time

from v2m.domain.errors import OutputError
from v2m.infrastructure.output import wayland_keyboard, x11_keymap
from v2m.infrastructure.output.desktop_tools import (NO_SESSION, Ran, TypingUnavailable, failure, have,
                                                     require_session, run, session_kind)
from v2m.infrastructure.output.focused_app import seat_has_keyboard
from v2m.infrastructure.output.paste_keys import parse_combo

VIRTUAL_KEYBOARD_REFUSED = "Compositor does not support the virtual keyboard protocol"
COMPLAINTS = ("no such key", "failed", "error", "can't", "cannot", "unable")
CHUNK_CHARS = 16_000  # one argument stays under Linux's 128 KiB limit
LEAD_MS = {True: 0, False: 50, None: 20}


def _ydotool_socket() -> str:
    return os.environ.get("YDOTOOL_SOCKET") or os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                            ".ydotool_socket")


def _ydotool_ready() -> bool:
    return have("ydotool") and (os.path.exists(_ydotool_socket()) or os.path.exists("/tmp/.ydotool_socket"))


def usable_tools() -> list[str]:
    kind = session_kind()
    tools = []
    if kind == "wayland":
        tools.append("virtual-keyboard")  # built in: wayland_keyboard.py
    if kind == "wayland" and have("wtype"):
        tools.append("wtype")
    if kind != "none" and _ydotool_ready():
        tools.append("ydotool")
    if kind == "x11" and have("xdotool"):
        tools.append("xdotool")
    return tools


def _checked(argv: list[str], timeout_s: float) -> Ran:
    done = run(argv, timeout_s=timeout_s, check=False)
    if VIRTUAL_KEYBOARD_REFUSED in done.stderr:
        raise TypingUnavailable(wayland_keyboard.REFUSED)
    complaint = any(word in done.stderr.lower() for word in COMPLAINTS)
    if done.returncode != 0 or complaint:
        raise failure(argv[0], done.returncode, done.stderr)
    return done


def _timeout(text: str, delay_ms: int) -> float:
    return 10.0 + len(text) * (0.02 + delay_ms / 1000)


def _chunks(text: str) -> list[str]:
    return [text[i:i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


_holders: dict[str, wayland_keyboard.VirtualKeyboard] = {}  # socket path -> a keyboard kept in the seat


def _hold_a_keyboard() -> str:
    """Keep a keyboard in the seat: "running", "started" (just now) or "failed"."""
    path = wayland_keyboard.socket_path()
    holder = _holders.get(path)
    if holder is not None and holder.alive():
        return "running"
    try:
        _holders[path] = wayland_keyboard.VirtualKeyboard(path)
        _holders[path].hold()
    except OutputError:
        _holders.pop(path, None)
        return "failed"
    return "started"


@atexit.register
def _release_keyboards() -> None:
    for holder in _holders.values():
        holder.close()


def _wtype_lead() -> list[str]:
    """wtype's sleep before the first key (see the module's docstring)."""
    if wayland_keyboard.socket_path() in _holders or seat_has_keyboard() is False:
        held = _hold_a_keyboard()  # a seat without a keyboard of its own
        return {"running": [], "started": ["-s", "300"]}.get(held, ["-s", str(LEAD_MS[False])])
    lead = LEAD_MS[seat_has_keyboard()]
    return ["-s", str(lead)] if lead else []


def _builtin_lead() -> None:
    """The same first-key care for the built-in virtual keyboard."""
    lead = _wtype_lead()
    if lead:
        time.sleep(int(lead[1]) / 1000)


def _wtype_type(text: str, delay_ms: int) -> None:
    for chunk in _chunks(text):
        _checked(["wtype", *_wtype_lead(), *(["-d", str(delay_ms)] if delay_ms > 0 else []), "--", chunk],
                 _timeout(chunk, delay_ms))


def _xdotool_type(text: str, delay_ms: int) -> None:
    parts = [text] if text.isascii() else x11_keymap.segments(text)
    for part in parts:
        for chunk in _chunks(part):
            _checked(["xdotool", "type", "--clearmodifiers", "--delay", str(delay_ms), "--", chunk],
                     _timeout(chunk, delay_ms))


def _ydotool_type(text: str, delay_ms: int) -> None:
    for chunk in _chunks(text):
        _checked(["ydotool", "type", "--key-delay", str(delay_ms), "--", chunk], _timeout(chunk, delay_ms))


WTYPE_MODS = {"ctrl": "ctrl", "shift": "shift", "alt": "alt", "super": "logo"}
# evdev key codes (US layout) for ydotool, which presses keys by code.
EVDEV = {"ctrl": 29, "shift": 42, "alt": 56, "super": 125, "insert": 110, "enter": 28, "return": 28,
         **dict(zip("qwertyuiop", range(16, 26))), **dict(zip("asdfghjkl", range(30, 39))),
         **dict(zip("zxcvbnm", range(44, 51)))}


def _wtype_press(mods: tuple[str, ...], key: str) -> None:
    argv = ["wtype", *_wtype_lead()]
    argv += [a for m in mods for a in ("-M", WTYPE_MODS[m])] + ["-k", key]
    argv += [a for m in reversed(mods) for a in ("-m", WTYPE_MODS[m])]
    _checked(argv, 10.0)


def _xdotool_press(mods: tuple[str, ...], key: str) -> None:
    _checked(["xdotool", "key", "--clearmodifiers", "+".join([*mods, key])], 10.0)


def _ydotool_press(mods: tuple[str, ...], key: str) -> None:
    try:
        codes = [EVDEV[m] for m in mods] + [EVDEV[key.lower()]]
    except KeyError:
        raise OutputError(f"ydotool: no key code known for {'+'.join([*mods, key])}") from None
    _checked(["ydotool", "key", *[f"{c}:1" for c in codes], *[f"{c}:0" for c in reversed(codes)]], 10.0)


def _builtin_type(text: str, delay_ms: int) -> None:
    _builtin_lead()
    wayland_keyboard.type_text(text, delay_ms)


def _builtin_press(mods: tuple[str, ...], key: str) -> None:
    _builtin_lead()
    wayland_keyboard.press(mods, key)


TYPERS = {"virtual-keyboard": _builtin_type, "wtype": _wtype_type, "ydotool": _ydotool_type,
          "xdotool": _xdotool_type}
PRESSERS = {"virtual-keyboard": _builtin_press, "wtype": _wtype_press, "ydotool": _ydotool_press,
            "xdotool": _xdotool_press}
INSTALL = "install wtype (wlroots compositors such as sway and Hyprland), xdotool (X11) or ydotool " \
          "(with ydotoold running; GNOME and KDE on Wayland)"


def _first_that_works(tools: dict, *args) -> str:
    kind = require_session()
    usable = usable_tools()
    if not usable:
        raise TypingUnavailable(f"no tool can type in this {kind} session: {INSTALL}")
    unavailable: list[str] = []
    errors: list[str] = []
    for tool in usable:
        try:
            tools[tool](*args)
            return tool
        except TypingUnavailable as exc:
            unavailable += [] if str(exc) in unavailable else [str(exc)]
        except OutputError as exc:
            if getattr(exc, "partial", False):
                raise
            errors.append(str(exc))
    if errors:
        raise OutputError("; ".join(errors + unavailable))
    raise TypingUnavailable("; ".join(unavailable))


def type_text(text: str, delay_ms: int = 0) -> str:
    """Type `text` into the focused window; returns the tool that did."""
    return _first_that_works(TYPERS, text, max(0, delay_ms))


def press_keys(keys: str) -> str:
    """Press a combination such as "ctrl+shift+v"; returns the tool that did."""
    mods, key = parse_combo(keys)
    return _first_that_works(PRESSERS, mods, key)


TOOL_NAMES = {"virtual-keyboard": "Wayland virtual keyboard (built in)", "wtype": "wtype on Wayland",
              "ydotool": "ydotool (uinput)", "xdotool": "xdotool on X11"}
CLIPBOARD_INSTEAD = "no typing path: typed text goes to the clipboard; paste it with Ctrl+V (Ctrl+Shift+V " \
                    "in a terminal)"
ENABLE_YDOTOOL = "ydotool types in any session, through the kernel's uinput: install ydotool, let your user " \
                 "write /dev/uinput (udev rule KERNEL==\"uinput\", GROUP=\"input\", MODE=\"0660\", then " \
                 "`sudo usermod -aG input $USER` and log in again) and keep `ydotoold` running"


def typing_path() -> tuple[bool, str, str]:
    """For `v2m doctor`: (whether something can type in this session, the path
    typing takes or why there is none, how to get one)."""
    kind = session_kind()
    if kind == "none":
        return False, f"no typing path: {NO_SESSION}", "run the daemon inside your desktop session"
    tools, refused = usable_tools(), ""
    if kind == "wayland":
        try:
            if not wayland_keyboard.offered():
                tools = [t for t in tools if t not in ("virtual-keyboard", "wtype")]
                refused = wayland_keyboard.REFUSED
        except OutputError as exc:
            return False, str(exc), "the daemon's WAYLAND_DISPLAY must name your compositor's socket"
    idle_ydotool = have("ydotool") and not _ydotool_ready()
    if idle_ydotool:
        ydotool_fix = f"ydotool is installed, but ydotoold is not running (no {_ydotool_socket()}): start it"
    else:
        ydotool_fix = ENABLE_YDOTOOL
    if tools:
        then = f" (then {', '.join(TOOL_NAMES[t] for t in tools[1:])})" if tools[1:] else ""
        return True, TOOL_NAMES[tools[0]] + then + (f"; {refused}" if refused else ""), ""
    detail = f"{refused or f'no typing tool for {kind}'}: {CLIPBOARD_INSTEAD}"
    fix = f"install xdotool; or {ydotool_fix}" if kind == "x11" and not refused else ydotool_fix
    return False, detail, fix


def typing_check() -> tuple[bool, str]:
    """(whether something can type here, what or why not)."""
    ok, detail, _ = typing_path()
    return ok, detail
