"""The keys that paste the clipboard into an app.

Terminals paste with Ctrl+Shift+V (Ctrl+V is a control character there);
other apps with Ctrl+V. The user's `output.paste_keys` entries ("app=keys",
app matched against the window's app_id, WM_CLASS or process name, any case)
come first. Keys are written like xdotool's: "ctrl+shift+v", "shift+Insert".
Stock xterm has no key for the CLIPBOARD selection; the table assumes the
common `XTerm*VT100.translations: #override Ctrl Shift <Key>V:
insert-selection(CLIPBOARD)` resource.
"""

from __future__ import annotations

import logging
from typing import Iterable

from v2m.infrastructure.output.focused_app import FocusedWindow

log = logging.getLogger(__name__)

DEFAULT = "ctrl+v"
TERMINAL = "ctrl+shift+v"
BUILT_IN = {
    **dict.fromkeys(("foot", "footclient", "kitty", "alacritty", "wezterm", "wezterm-gui", "org.wezfurlong.wezterm",
                     "gnome-terminal", "gnome-terminal-server", "org.gnome.terminal", "konsole", "org.kde.konsole",
                     "xterm", "uxterm", "xfce4-terminal", "tilix", "com.gexperts.tilix", "terminator",
                     "org.gnome.console", "kgx", "org.gnome.ptyxis", "ptyxis", "ghostty", "com.mitchellh.ghostty",
                     "st", "st-256color", "lxterminal", "mate-terminal", "qterminal", "terminology", "sakura",
                     "rio", "contour", "blackbox", "com.raggesilver.blackbox"), TERMINAL),
    **dict.fromkeys(("urxvt", "rxvt", "rxvt-unicode"), "ctrl+alt+v"),
}
MODIFIERS = ("ctrl", "shift", "alt", "super")
_ALIASES = {"control": "ctrl", "logo": "super", "meta": "super", "win": "super", "mod4": "super"}


def parse_combo(keys: str) -> tuple[tuple[str, ...], str]:
    """"Ctrl+Shift+V" -> (("ctrl", "shift"), "v"); ValueError if malformed."""
    parts = [p.strip() for p in keys.split("+")]
    if not parts or not all(parts):
        raise ValueError(f"bad keys {keys!r}: write them like ctrl+shift+v")
    mods = tuple(_ALIASES.get(p.lower(), p.lower()) for p in parts[:-1])
    bad = [m for m in mods if m not in MODIFIERS]
    if bad:
        raise ValueError(f"bad keys {keys!r}: {bad[0]} is not one of {', '.join(MODIFIERS)}")
    key = parts[-1]
    return mods, key.lower() if len(key) == 1 else key


def parse_table(entries: Iterable[str]) -> dict[str, str]:
    """The user's "app=keys" entries; a malformed one is logged and skipped."""
    table: dict[str, str] = {}
    for entry in entries:
        app, sep, keys = entry.partition("=")
        try:
            if not sep or not app.strip():
                raise ValueError(f"bad paste_keys entry {entry!r}: write it as app=keys, e.g. foot=ctrl+shift+v")
            parse_combo(keys)
        except ValueError as exc:
            log.warning("%s", exc)
            continue
        table[app.strip().lower()] = keys.strip()
    return table


def _lookup(table: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in table:
            return table[name]
        tail = name.rsplit(".", 1)[-1]  # reverse-DNS app ids: org.kde.konsole
        if tail in table:
            return table[tail]
    return None


def keys_for(window: FocusedWindow | None, user: dict[str, str] | None = None) -> str:
    names = window.names if window is not None else ()
    return _lookup(user or {}, names) or _lookup(BUILT_IN, names) or DEFAULT


def spoken(keys: str) -> str:
    """"ctrl+shift+v" -> "Ctrl+Shift+V", for messages."""
    mods, key = parse_combo(keys)
    return "+".join([m.capitalize() for m in mods] + [key.upper() if len(key) == 1 else key])


def hint(window: FocusedWindow | None, user: dict[str, str] | None = None) -> str:
    """How to paste, for a message: the app's keys, or both kinds if unknown."""
    if window is None:
        return f"{spoken(DEFAULT)} ({spoken(TERMINAL)} in a terminal)"
    return spoken(keys_for(window, user))
