"""The desktop `v2m setup` runs in: which outputs suit it, and how to bind a
key to `v2m toggle` there. Pure functions of the environment (and of which
tools are on PATH), standard library only."""

from __future__ import annotations

import dataclasses
import shutil
from typing import Callable, Mapping

Which = Callable[[str], str | None]

GNOME_PATH = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/v2m/"
GNOME_SCHEMA = "org.gnome.settings-daemon.plugins.media-keys"


@dataclasses.dataclass(frozen=True)
class Desktop:
    name: str      # "sway", "i3", "hyprland", "gnome", "kde", or "" when unknown
    session: str   # "wayland", "x11" or "none"

    @property
    def label(self) -> str:
        names = {"sway": "sway", "i3": "i3", "hyprland": "Hyprland", "gnome": "GNOME", "kde": "KDE Plasma"}
        session = {"wayland": "Wayland", "x11": "X11", "none": "no graphical session"}[self.session]
        return f"{names[self.name]} ({session})" if self.name else session


def detect(environ: Mapping[str, str]) -> Desktop:
    session = "wayland" if environ.get("WAYLAND_DISPLAY") else "x11" if environ.get("DISPLAY") else "none"
    return Desktop(_desktop_name(environ), session)


def _desktop_name(environ: Mapping[str, str]) -> str:
    if environ.get("SWAYSOCK"):
        return "sway"
    if environ.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return "hyprland"
    if environ.get("I3SOCK"):
        return "i3"
    names = (environ.get("XDG_CURRENT_DESKTOP", "") + ":" + environ.get("DESKTOP_SESSION", "")).lower()
    for name, marks in (("sway", ("sway",)), ("hyprland", ("hyprland",)), ("i3", ("i3",)),
                        ("gnome", ("gnome", "unity", "ubuntu")), ("kde", ("kde", "plasma"))):
        if any(mark in part for part in names.split(":") for mark in marks):
            return name
    return ""


def typing_tool(desktop: Desktop, which: Which = shutil.which) -> str | None:
    """The tool that can type into the focused window here, if one is installed."""
    if desktop.session == "x11":
        candidates = ["xdotool"]
    elif desktop.session == "wayland":
        # wtype needs the virtual-keyboard protocol: wlroots compositors have it, GNOME does not.
        candidates = (["ydotool"] if desktop.name in ("gnome", "kde") else ["wtype", "ydotool"])
    else:
        candidates = []
    return next((tool for tool in candidates if which(tool)), None)


def clipboard_tool(desktop: Desktop, which: Which = shutil.which) -> str | None:
    candidates = {"wayland": ["wl-copy"], "x11": ["xclip", "xsel"]}.get(desktop.session, [])
    return next((tool for tool in candidates if which(tool)), None)


def suggested_sinks(desktop: Desktop, which: Which = shutil.which) -> list[str]:
    """Typing into the focused window where a tool can; else the clipboard."""
    return ["type"] if typing_tool(desktop, which) else ["clipboard"]


def install_hint(desktop: Desktop) -> str:
    if desktop.session == "wayland":
        return "install wl-clipboard (clipboard) and wtype, or ydotool on GNOME and KDE (typing)"
    if desktop.session == "x11":
        return "install xclip (clipboard) and xdotool (typing)"
    return "run `v2m setup` inside your desktop session"


def keybinding_lines(desktop: Desktop, command: str) -> list[str]:
    """How to bind `command` (e.g. "/usr/bin/v2m toggle") to Super+D here."""
    if desktop.name == "sway":
        return ["# ~/.config/sway/config, then `swaymsg reload`:", f"bindsym $mod+d exec {command}"]
    if desktop.name == "i3":
        return ["# ~/.config/i3/config, then `i3-msg reload`:", f"bindsym $mod+d exec --no-startup-id {command}"]
    if desktop.name == "hyprland":
        return ["# ~/.config/hypr/hyprland.conf (reloaded on save):", f"bind = SUPER, D, exec, {command}"]
    if desktop.name == "gnome":
        key = f"{GNOME_SCHEMA}.custom-keybinding:{GNOME_PATH}"
        return ["# Settings > Keyboard > Custom Shortcuts > +, or in a terminal (this replaces",
                "# other custom shortcuts; add the path to the list to keep them):",
                f"gsettings set {GNOME_SCHEMA} custom-keybindings \"['{GNOME_PATH}']\"",
                f"gsettings set {key} name 'v2m'",
                f"gsettings set {key} command '{command}'",
                f"gsettings set {key} binding '<Super>d'"]
    if desktop.name == "kde":
        return ["# System Settings > Keyboard > Shortcuts > Add New > Command or Script:",
                f"{command}", "# then assign Meta+D to it"]
    return ["# bind a key to this command in your window manager or desktop settings:", command]
