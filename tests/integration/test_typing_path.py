"""`v2m doctor`'s typing path (key_tools.typing_path) in real sessions:
headless sway (the built-in virtual keyboard), sway behind a proxy that
hides the virtual-keyboard protocol (as GNOME and KDE look to v2m), and
Xvfb (xdotool)."""

from __future__ import annotations

import shutil

import pytest

from tests.support.wayland import SwaySession, sway_session
from tests.support.wayland_proxy import HidingProxy
from v2m.infrastructure.output import key_tools

SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "I3SOCK")


@pytest.fixture(scope="module")
def sway_desk():
    yield from sway_session()


@pytest.fixture
def in_session(monkeypatch, tmp_path):
    """A session's variables, and a PATH with wtype and xdotool only (a
    ydotool installed here would change the findings)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("wtype", "xdotool"):
        found = shutil.which(tool)
        assert found, f"{tool} is missing (make apt)"
        (tools / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(tools))

    def use(env: dict[str, str]) -> None:
        for name in SESSION_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    return use


def test_sway_types_with_the_built_in_virtual_keyboard(sway_desk: SwaySession, in_session):
    in_session(sway_desk.env)
    assert key_tools.typing_path() == (True, "Wayland virtual keyboard (built in) (then wtype on Wayland)", "")


def test_without_the_protocol_the_text_goes_to_the_clipboard_and_ydotool_is_the_fix(sway_desk, in_session):
    proxy = HidingProxy(sway_desk.wayland_display, {"zwp_virtual_keyboard_manager_v1"}).start()
    try:
        in_session({**sway_desk.env, "WAYLAND_DISPLAY": proxy.path})
        ok, detail, fix = key_tools.typing_path()
    finally:
        proxy.stop()
    assert not ok
    assert detail == ("the compositor does not support the virtual keyboard protocol (as GNOME and KDE): no typing "
                      "path: typed text goes to the clipboard; paste it with Ctrl+V (Ctrl+Shift+V in a terminal)")
    assert fix == key_tools.ENABLE_YDOTOOL and "/dev/uinput" in fix and "`ydotoold`" in fix


def test_x11_types_with_xdotool_and_no_session_has_no_path(xvfb, in_session):
    in_session({"DISPLAY": xvfb.display})
    assert key_tools.typing_path() == (True, "xdotool on X11", "")
    in_session({})
    assert key_tools.typing_path() == (False, "no typing path: no graphical session (DISPLAY and WAYLAND_DISPLAY "
                                              "are unset)", "run the daemon inside your desktop session")
