"""`v2m setup`'s desktop detection, output suggestion, keybinding lines and
microphone helpers: pure functions of the environment and the device list."""

import pytest

from v2m.cli import setup_desktop as desk
from v2m.cli.setup_mic import current_choice, dbfs, device_setting, meter_line

SWAY = {"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/user/1000/sway-ipc.sock", "XDG_CURRENT_DESKTOP": "sway"}


@pytest.mark.parametrize("environ,name,session", [
    (SWAY, "sway", "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-1", "HYPRLAND_INSTANCE_SIGNATURE": "x"}, "hyprland", "wayland"),
    ({"DISPLAY": ":0", "I3SOCK": "/tmp/i3"}, "i3", "x11"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, "gnome", "wayland"),
    ({"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"}, "kde", "x11"),
    ({"DISPLAY": ":1", "DESKTOP_SESSION": "plasma"}, "kde", "x11"),
    ({}, "", "none"),
])
def test_detect(environ, name, session):
    assert desk.detect(environ) == desk.Desktop(name, session)


def only(*tools):
    return lambda tool: f"/usr/bin/{tool}" if tool in tools else None


def test_typing_is_suggested_only_where_a_tool_can_type():
    sway, gnome = desk.detect(SWAY), desk.Desktop("gnome", "wayland")
    assert desk.suggested_sinks(sway, only("wtype", "wl-copy")) == ["type"]
    assert desk.suggested_sinks(gnome, only("wtype", "wl-copy")) == ["clipboard"]  # no virtual keyboard there
    assert desk.suggested_sinks(gnome, only("ydotool")) == ["type"]
    assert desk.suggested_sinks(desk.Desktop("", "x11"), only("xclip")) == ["clipboard"]
    assert desk.clipboard_tool(desk.Desktop("", "x11"), only("xsel")) == "xsel"
    assert desk.clipboard_tool(desk.Desktop("", "none"), only("xclip", "wl-copy")) is None


@pytest.mark.parametrize("name,expected", [
    ("sway", "bindsym $mod+d exec /opt/v2m toggle"),
    ("i3", "bindsym $mod+d exec --no-startup-id /opt/v2m toggle"),
    ("hyprland", "bind = SUPER, D, exec, /opt/v2m toggle"),
    ("gnome", ("gsettings set org.gnome.settings-daemon.plugins.media-keys.custom-keybinding:"
               "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/v2m/ command '/opt/v2m toggle'")),
    ("kde", "/opt/v2m toggle"),
    ("", "/opt/v2m toggle"),
])
def test_keybinding_line_for_each_desktop(name, expected):
    lines = desk.keybinding_lines(desk.Desktop(name, "wayland"), "/opt/v2m toggle")
    assert expected in lines
    assert lines[0].startswith("#")  # where it goes


DEVICES = [{"index": 0, "name": "USB Mic", "default": False}, {"index": 3, "name": "USB Mic 2", "default": False},
           {"index": 5, "name": "default", "default": True}, {"index": 7, "name": "Mic", "default": False}]


def test_device_setting_is_stable_and_unambiguous():
    assert device_setting(DEVICES, DEVICES[2]) == ""          # the system default follows the system
    assert device_setting(DEVICES, DEVICES[1]) == "USB Mic 2"  # a name, which survives re-plugging
    assert device_setting(DEVICES, DEVICES[0]) == "USB Mic"
    assert device_setting(DEVICES, DEVICES[3]) == "7"          # "Mic" would match "USB Mic" first


def test_current_choice_finds_the_configured_device():
    assert current_choice(DEVICES, "") == 3
    assert current_choice(DEVICES, "usb mic 2") == 2
    assert current_choice(DEVICES, "7") == 4
    assert current_choice(DEVICES, "gone") == 3


def test_meter_spans_silence_to_full_scale():
    assert dbfs(0.0) == -120.0 and round(dbfs(1.0)) == 0
    assert meter_line(0.0).startswith("[" + "." * 30 + "]")
    assert meter_line(1.0).startswith("[" + "#" * 30 + "]")
    assert meter_line(0.03).count("#") == 15  # about -30 dBFS: half way
