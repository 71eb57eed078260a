"""Issue 14, `v2m paste-last`: the newest dictation delivered again, by the
daemon, into a real app (xterm on Xvfb running `cat`, tests/support/x11_apps)
and the X clipboard; an empty history and a daemon without a display are
clear errors. Runs against the venv's v2m or V2M_BIN."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.e2e.conftest import run_v2m
from tests.support.wer import wer
from tests.support.speech import SENTENCES
from tests.support.x11_apps import XtermSession, xterm_session

SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "I3SOCK")
NO_SESSION = "no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)"


@pytest.fixture
def xterm(xvfb):
    yield from xterm_session(xvfb.display)


@pytest.fixture
def desktop(xdg, pulse, xterm: XtermSession, notifications, monkeypatch) -> XtermSession:
    """The daemon's session: the microphone, and X11 with xterm focused."""
    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**pulse.env, **xterm.env}.items():  # output.sinks: the default, ["clipboard"]
        monkeypatch.setenv(name, value)
    return xterm


def clipboard(xterm: XtermSession) -> str:
    return subprocess.run(["xclip", "-selection", "clipboard", "-out"], env=xterm.client_env(),
                          capture_output=True, text=True, timeout=10).stdout


def set_clipboard(xterm: XtermSession, text: str) -> None:
    """xclip returns before it owns the selection: wait until it reads back."""
    xterm.run("xclip", "-selection", "clipboard", "-in", input=text.encode(), check=True)
    deadline = time.monotonic() + 5
    while clipboard(xterm) != text:
        assert time.monotonic() < deadline, f"the clipboard never held {text!r}"
        time.sleep(0.02)


def test_paste_last_puts_the_dictation_on_the_clipboard_types_and_pastes_it_again(desktop, start_daemon, pulse,
                                                                                   speech_dir):
    start_daemon().wait_model_loaded()
    assert run_v2m("toggle").returncode == 0
    pulse.play(speech_dir / "s1.wav").wait()
    out = run_v2m("toggle")
    assert out.returncode == 0, out.stderr
    text = out.stdout.strip()
    assert wer(SENTENCES[1], text) <= 0.5, text
    set_clipboard(desktop, "something copied since")

    again = run_v2m("paste-last")  # output.sinks = ["clipboard"]
    assert again.returncode == 0 and again.stdout.strip() == text, again.stderr
    assert clipboard(desktop) == text
    assert desktop.typed() == ""  # the clipboard sink types nothing

    typed = run_v2m("paste-last", "--type")
    assert typed.returncode == 0, typed.stderr
    desktop.wait_for(text)
    assert desktop.wait_quiet(0.2) == text  # every character, nothing else

    assert run_v2m("config", "set", "output.sinks", "type").returncode == 0
    set_clipboard(desktop, "kept clipboard")
    pasted = run_v2m("paste-last")  # "type" is pasted: Ctrl+Shift+V in xterm
    assert pasted.returncode == 0, pasted.stderr
    both = f"{text} {text}"  # the separator: the same window, moments after the typed one
    desktop.wait_for(both)
    assert desktop.wait_quiet(0.2) == both
    assert clipboard(desktop) == "kept clipboard"  # the paste put the previous clipboard back


def test_an_empty_history_is_a_clear_error_and_a_notification(desktop, notifications, start_daemon):
    start_daemon()
    set_clipboard(desktop, "untouched")
    for args in (["paste-last"], ["paste-last", "--type"]):
        out = run_v2m(*args)
        assert out.returncode == 1 and out.stdout == "", (out.returncode, out.stdout)
        assert "there is no dictation to paste yet: the history is empty" in out.stderr
        assert "`v2m toggle`" in out.stderr
    # Run from a keybinding (stderr not a terminal), the error is also on the desktop.
    assert notifications.read_text().count("the history is empty") == 2
    assert clipboard(desktop) == "untouched" and desktop.wait_quiet(0.2) == ""


def test_without_a_display_the_reason_is_on_stderr_with_exit_3(xdg, notifications, start_daemon, monkeypatch):
    from v2m.bootstrap import open_history
    from v2m.domain.history import HistoryRecord

    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    open_history().append(HistoryRecord(time.time(), 1.5, "tiny.en", "older words").to_dict())
    open_history().append(HistoryRecord(time.time(), 2.0, "tiny.en", "the newest words").to_dict())
    start_daemon()
    for args, sink in ((["paste-last"], "clipboard"), (["paste-last", "--type"], "type")):
        out = run_v2m(*args)
        assert out.returncode == 3, (out.returncode, out.stderr)
        assert out.stdout == "the newest words\n"
        assert f"{sink} failed: {NO_SESSION}" in out.stderr
    assert f"type failed: {NO_SESSION}" in notifications.read_text()
