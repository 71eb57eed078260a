"""Which window has the keyboard focus, and what app it is.

sway (and i3 under Wayland's sway IPC): `swaymsg -t get_tree`; Hyprland:
`hyprctl activewindow -j`; X11 (any window manager, or none):
`xdotool getwindowfocus` and `xprop WM_CLASS _NET_WM_PID`
(`getactivewindow` needs a window manager's _NET_ACTIVE_WINDOW). Other
Wayland compositors (GNOME, KDE) do not say: the answer is None.

An app is known by its names: app_id or WM_CLASS class and instance, and the
name of its process (/proc/PID/comm), lower case, so that `foot --app-id x`
is still foot.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import logging
import os
import time

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.desktop_tools import have, run, session_kind

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FocusedWindow:
    id: str                  # unique within the session: "sway:5", "hyprland:0x55d1", "x11:2097164"
    names: tuple[str, ...]   # lower case: app_id/class, instance, process name

    @property
    def app(self) -> str:
        return self.names[0] if self.names else "?"


def _process_name(pid) -> str:
    try:
        with open(f"/proc/{int(pid)}/comm") as comm:
            return comm.read().strip()
    except (OSError, TypeError, ValueError):
        return ""


def _window(wid: str, *names) -> FocusedWindow:
    unique = []
    for name in names:
        name = str(name or "").strip().lower()
        if name and name not in unique:
            unique.append(name)
    return FocusedWindow(wid, tuple(unique))


def sway_socket() -> str | None:
    """$SWAYSOCK, or sway's socket in the runtime directory (a daemon started
    by systemd often lacks SWAYSOCK)."""
    if os.environ.get("SWAYSOCK"):
        return os.environ["SWAYSOCK"]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    found = sorted(glob.glob(os.path.join(runtime, f"sway-ipc.{os.getuid()}.*.sock")), key=os.path.getmtime)
    return found[-1] if runtime and found else None


def swaymsg(*args: str) -> object:
    sock = sway_socket()
    if sock is None or not have("swaymsg"):
        raise OutputError("no sway IPC")
    return json.loads(run(["swaymsg", "-s", sock, "--raw", *args], capture=True, timeout_s=2.0).text)


def _sway() -> FocusedWindow | None:
    def walk(node: dict) -> dict | None:
        if node.get("focused"):
            return node
        for child in node.get("nodes", []) + node.get("floating_nodes", []):
            found = walk(child)
            if found is not None:
                return found
        return None

    tree = swaymsg("-t", "get_tree")
    node = walk(tree) if isinstance(tree, dict) else None
    if node is None or node.get("type") not in ("con", "floating_con"):
        return None  # a workspace: no window has the focus
    props = node.get("window_properties") or {}
    return _window(f"sway:{node.get('id')}", node.get("app_id") or props.get("class"), props.get("instance"),
                   _process_name(node.get("pid")))


def _hyprland() -> FocusedWindow | None:
    info = json.loads(run(["hyprctl", "activewindow", "-j"], capture=True, timeout_s=2.0).text or "{}")
    if not info.get("address"):
        return None
    return _window(f"hyprland:{info['address']}", info.get("class"), info.get("initialClass"),
                   _process_name(info.get("pid")))


def _x11() -> FocusedWindow | None:
    done = run(["xdotool", "getwindowfocus"], capture=True, timeout_s=2.0, check=False)
    try:
        wid = int(done.text.split()[0])
    except (IndexError, ValueError):
        return None
    if wid <= 1:  # None or PointerRoot
        return None
    props = run(["xprop", "-id", str(wid), "WM_CLASS", "_NET_WM_PID"], capture=True, timeout_s=2.0,
                check=False).text
    instance = cls = pid = ""
    for line in props.splitlines():
        if line.startswith("WM_CLASS") and "=" in line:
            parts = [p.strip().strip('"') for p in line.split("=", 1)[1].split(",")]
            instance, cls = (parts + ["", ""])[:2]
        elif line.startswith("_NET_WM_PID") and "=" in line:
            pid = line.split("=", 1)[1].strip()
    return _window(f"x11:{wid}", cls, instance, _process_name(pid))


def compositor() -> str:
    """"sway", "hyprland", "x11", or "" (a Wayland compositor we cannot ask)."""
    kind = session_kind()
    if kind == "x11":
        return "x11" if have("xdotool") else ""
    if kind == "wayland":
        if os.environ.get("HYPRLAND_INSTANCE_SIGNATURE") and have("hyprctl"):
            return "hyprland"
        if sway_socket() is not None and have("swaymsg"):
            return "sway"
    return ""


def focused_window() -> FocusedWindow | None:
    """The focused window, or None when there is none or we cannot tell."""
    lookup = {"sway": _sway, "hyprland": _hyprland, "x11": _x11}.get(compositor())
    if lookup is None:
        return None
    try:
        return lookup()
    except (OutputError, ValueError, KeyError, TypeError) as exc:
        log.info("could not find the focused window: %s", exc)
        return None


_keyboard_seen: dict[tuple[str, ...], tuple[float, bool]] = {}


def seat_has_keyboard(max_age_s: float = 30.0) -> bool | None:
    """Whether the seat has a keyboard (sway, Hyprland), None if unknown.
    Without one, the keys a virtual keyboard sends first can be lost while
    the app binds its keyboard. Remembered per session for `max_age_s`."""
    session = tuple(os.environ.get(v, "") for v in ("WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE"))
    seen_at, seen = _keyboard_seen.get(session, (-1e9, False))
    if time.monotonic() - seen_at < max_age_s:
        return seen
    found: bool | None = None
    try:
        where = compositor()
        if where == "sway":
            inputs = swaymsg("-t", "get_inputs")
            found = any(i.get("type") == "keyboard" for i in inputs) if isinstance(inputs, list) else None
        elif where == "hyprland":
            devices = json.loads(run(["hyprctl", "devices", "-j"], capture=True, timeout_s=2.0).text)
            found = bool(devices.get("keyboards"))
    except (OutputError, ValueError, AttributeError) as exc:
        log.info("could not list the seat's input devices: %s", exc)
    if found is not None:
        _keyboard_seen[session] = (time.monotonic(), found)
    return found
