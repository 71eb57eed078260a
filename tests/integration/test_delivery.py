"""Delivery into real apps: the v2m sinks against headless sway + foot and
Xvfb + xterm (tests/support/wayland.py, x11_apps.py), whose `cat` writes
every byte that arrives to a file. No mocks: real wtype, xdotool, wl-copy,
xclip, xsel, and a real compositor without the virtual-keyboard protocol
(sway behind tests/support/wayland_proxy.py, as GNOME is to wtype)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest

from tests.integration.test_desktops import busy_cores, hundred_words
from tests.support.wayland import SwaySession, sway_session
from tests.support.wayland_proxy import HidingProxy
from tests.support.x11_apps import XtermSession, xterm_session
from v2m.application.outputs import deliver_all
from v2m.domain.errors import OutputError
from v2m.infrastructure.output import clipboard_tools, key_tools
from v2m.infrastructure.output.desktop_tools import TypingUnavailable
from v2m.infrastructure.output.clipboard import ClipboardSink
from v2m.infrastructure.output.focused_app import focused_window
from v2m.infrastructure.output.keyboard import PasteSink, TypeSink
from v2m.infrastructure.output.paste_keys import keys_for
from v2m.infrastructure.output.recent import RecentDeliveries

UNICODE = "Grüße naïve café — “ok”"
TEXT = f"hello {UNICODE}\nsecond line\n"
SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "I3SOCK")


def use_session(monkeypatch, env: dict[str, str]) -> None:
    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def type_sink(**kw) -> TypeSink:
    return TypeSink(recent=RecentDeliveries(), **kw)


def paste_sink(**kw) -> PasteSink:
    return PasteSink(recent=RecentDeliveries(), **kw)


def assert_arrives_exactly(session, text: str, timeout_s: float = 10) -> None:
    session.wait_for(text, timeout_s)
    assert session.wait_quiet(0.15) == text


def read_back(run, argv: list[str]) -> str:
    return run(*argv, stdout=subprocess.PIPE).stdout.decode("utf-8", errors="replace")


def until_it_reads(run, argv: list[str], expected: bytes, timeout_s: float = 5) -> None:
    """Raw tools return before they own the clipboard: wait until they do."""
    deadline = time.monotonic() + timeout_s
    while run(*argv, stdout=subprocess.PIPE).stdout != expected:
        assert time.monotonic() < deadline, f"the clipboard never held {expected[:40]!r}"
        time.sleep(0.01)


# --- Wayland: sway + foot -----------------------------------------------------------


@pytest.fixture(scope="module")
def sway_desk():
    yield from sway_session()


@pytest.fixture
def foot(sway_desk: SwaySession, monkeypatch) -> SwaySession:
    use_session(monkeypatch, sway_desk.env)
    if sway_desk.focused_app_id() != sway_desk.app_id:
        sway_desk.focus_target()
    sway_desk.wait_quiet(0.1)
    sway_desk.clear()
    return sway_desk


def wl_copy(sway: SwaySession, data: bytes, mime: str = "text/plain") -> None:
    sway.run("wl-copy", "--type", mime, input=data, check=True)
    until_it_reads(sway.run, ["wl-paste", "--no-newline", "--type", mime], data)


def test_typing_lands_exactly_in_foot_from_the_first_character(foot):
    for _ in range(5):
        foot.clear()
        assert type_sink().deliver(TEXT) is None
        assert_arrives_exactly(foot, TEXT)


def test_typing_keeps_the_first_key_in_a_seat_without_a_keyboard(monkeypatch):
    """Raw wtype loses the first key there about half the time, and a sleep
    before it is not enough with both cores busy: v2m gives the seat a keyboard."""
    bare = SwaySession(keyboard=False).start()
    try:
        use_session(monkeypatch, bare.env)
        with busy_cores(2):
            for i in range(20):
                bare.clear()
                type_sink().deliver(f"hello wayland {i}")
                assert_arrives_exactly(bare, f"hello wayland {i}")
        inputs = bare.swaymsg("-t", "get_inputs", "--raw").stdout
        assert '"keyboard"' in inputs  # v2m's, still there for the next dictation
    finally:
        bare.stop()


def test_the_wtype_path_types_exactly_too(foot):
    """The built-in virtual keyboard comes first; wtype is the fallback."""
    key_tools.TYPERS["wtype"](TEXT, 0)
    assert_arrives_exactly(foot, TEXT)


def test_typing_100_words_loses_nothing_and_honours_the_typing_delay(foot):
    text = hundred_words()
    type_sink().deliver(text)
    assert_arrives_exactly(foot, text, 60)
    foot.clear()
    started = time.monotonic()
    type_sink(delay_ms=40).deliver("slow typing")
    assert time.monotonic() - started >= 11 * 0.04
    assert_arrives_exactly(foot, "slow typing")


def test_the_separator_goes_between_dictations_into_the_same_window(foot):
    recent = RecentDeliveries()
    TypeSink(recent=recent).deliver("end of the month.")
    TypeSink(recent=recent).deliver("She painted.")
    TypeSink(recent=recent, separator=" / ").deliver("Then left.")
    assert_arrives_exactly(foot, "end of the month. She painted. / Then left.")
    later = [1000.0]
    recent = RecentDeliveries(window_s=120, clock=lambda: later[0])
    foot.clear()
    TypeSink(recent=recent).deliver("One.")
    later[0] += 121  # past the window: a new start
    TypeSink(recent=recent).deliver("Two.")
    assert_arrives_exactly(foot, "One.Two.")


def test_live_parts_then_the_rest_type_the_final_text_once(foot):
    sink = type_sink()
    sink.deliver_part("Hello world.")
    sink.deliver_part("How are you?")
    assert foot.wait_for("Hello world. How are you?") == "Hello world. How are you?"
    assert sink.deliver("Hello world. How are you? Fine, thanks.") is None
    assert_arrives_exactly(foot, "Hello world. How are you? Fine, thanks.")


def test_live_text_so_far_types_only_what_is_new(foot):
    recent = RecentDeliveries()
    TypeSink(recent=recent).deliver("Before.")
    sink = TypeSink(recent=recent)
    sink.deliver_so_far("One.")
    sink.deliver_so_far("One. Two.")
    sink.deliver_so_far("One. Two.")  # nothing new
    assert sink.deliver("One. Two. Three.") is None
    assert_arrives_exactly(foot, "Before. One. Two. Three.")


def test_focused_window_on_sway_names_the_app_and_its_process(foot):
    window = focused_window()
    assert window is not None and window.id.startswith("sway:")
    assert window.names[:2] == ("v2m-foot", "foot")  # app_id, then the process
    assert keys_for(window) == "ctrl+shift+v"
    assert keys_for(window, {"v2m-foot": "shift+Insert"}) == "shift+Insert"


def test_paste_into_foot_uses_ctrl_shift_v_and_brings_the_previous_clipboard_back(foot):
    previous = f"copied before {uuid.uuid4().hex}"
    wl_copy(foot, previous.encode())
    assert paste_sink().deliver(TEXT) is None
    assert_arrives_exactly(foot, TEXT)
    assert read_back(foot.run, ["wl-paste", "--no-newline"]) == previous  # at once: the restore is confirmed


def test_paste_keys_from_the_users_table_and_an_app_that_reads_nothing(foot):
    wl_copy(foot, b"kept")
    sink = paste_sink(paste_keys=["v2m-foot=shift+Insert"], read_bound_s=0.5)  # foot: Shift+Insert pastes PRIMARY
    note = sink.deliver("never pasted")
    assert note == "v2m-foot did not read the clipboard within 0.5 s of Shift+Insert: the paste may not have " \
                   "happened (the text is in `v2m history`)"
    assert read_back(foot.run, ["wl-paste", "--no-newline"]) == "kept"


def test_two_pastes_into_the_same_window_get_the_separator(foot):
    recent = RecentDeliveries()
    PasteSink(recent=recent).deliver("First.")
    PasteSink(recent=recent).deliver("Second.")
    assert_arrives_exactly(foot, "First. Second.")


def test_paste_restores_an_image_as_an_image(foot):
    image = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 100
    wl_copy(foot, image, "image/png")
    assert paste_sink().deliver("over an image") is None
    assert_arrives_exactly(foot, "over an image")
    assert read_back(foot.run, ["wl-paste", "--list-types"]).split() == ["image/png"]
    assert foot.run("wl-paste", "--type", "image/png", stdout=subprocess.PIPE).stdout == image


def test_paste_over_an_empty_clipboard_leaves_it_empty(foot):
    foot.run("wl-copy", "--clear", check=True)
    assert paste_sink().deliver("nothing before") is None
    assert_arrives_exactly(foot, "nothing before")
    assert foot.run("wl-paste", "--list-types", stdout=subprocess.PIPE).returncode != 0


def test_wl_copy_round_trip_is_confirmed(foot):
    text = f"{UNICODE}\nline two {uuid.uuid4()}"
    ClipboardSink().deliver(text)
    assert read_back(foot.run, ["wl-paste", "--no-newline"]) == text
    assert ClipboardSink().read() == text
    assert foot.typed() == ""


def test_200_clipboard_writes_each_read_back_at_once_on_wayland(foot):
    values = [f"v2m-wl-{i}-{uuid.uuid4().hex[:8]}" for i in range(200)]
    sink, wrong = ClipboardSink(), []
    with busy_cores(2):
        for value in values:
            sink.deliver(value)
            got = read_back(foot.run, ["wl-paste", "--no-newline"])
            wrong += [] if got == value else [(value, got)]
    assert wrong == []


@pytest.fixture
def no_virtual_keyboard(foot, monkeypatch):
    """sway as GNOME looks to wtype: no virtual-keyboard protocol."""
    proxy = HidingProxy(foot.wayland_display, {"zwp_virtual_keyboard_manager_v1"}).start()
    monkeypatch.setenv("WAYLAND_DISPLAY", proxy.path)
    yield foot
    proxy.stop()


def test_typing_where_wtype_is_refused_puts_the_text_on_the_clipboard_and_says_so(no_virtual_keyboard):
    note = type_sink().deliver("refused text")
    assert "virtual keyboard protocol" in note and "the text is on the clipboard" in note
    assert "paste it with Ctrl+Shift+V" in note  # foot, a terminal
    assert read_back(no_virtual_keyboard.run, ["wl-paste", "--no-newline"]) == "refused text"
    assert no_virtual_keyboard.wait_quiet(0.2) == ""
    result = deliver_all("refused again", [type_sink()])
    assert result["type"].startswith("warning: the compositor does not support the virtual keyboard protocol")


def test_wtypes_own_refusal_is_recognised(no_virtual_keyboard):
    with pytest.raises(TypingUnavailable, match="does not support the virtual keyboard protocol"):
        key_tools.TYPERS["wtype"]("x", 0)  # wtype: "Compositor does not support the virtual keyboard protocol"


def test_doctors_typing_check_sees_the_refusal(no_virtual_keyboard, foot):
    ok, detail = key_tools.typing_check()
    assert not ok and detail.startswith("the compositor does not support the virtual keyboard protocol")


def test_paste_where_keys_are_refused_leaves_the_text_on_the_clipboard(no_virtual_keyboard):
    note = paste_sink().deliver("paste refused")
    assert note.startswith("could not press the paste keys") and "virtual keyboard protocol" in note
    assert read_back(no_virtual_keyboard.run, ["wl-paste", "--no-newline"]) == "paste refused"


def test_a_dead_compositor_is_a_failure_with_the_tools_words(foot, monkeypatch):
    monkeypatch.setenv("WAYLAND_DISPLAY", "/nonexistent/wayland-9")
    with pytest.raises(OutputError, match="wtype failed .exit code 1.: Wayland connection failed"):
        type_sink().deliver("x")
    result = deliver_all("x", [ClipboardSink(), type_sink(), paste_sink()])
    assert all(r.startswith("failed: ") for r in result.values()), result


def test_no_graphical_session_is_named_for_every_output(monkeypatch):
    use_session(monkeypatch, {})
    result = deliver_all("x", [ClipboardSink(), type_sink(), paste_sink()])
    reason = "failed: no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)"
    assert result == {"clipboard": reason, "type": reason, "paste": reason}


# --- X11: Xvfb + xterm ----------------------------------------------------------------


@pytest.fixture(scope="module")
def xterm_desk():
    yield from xterm_session()


@pytest.fixture
def xterm(xterm_desk: XtermSession, monkeypatch) -> XtermSession:
    use_session(monkeypatch, xterm_desk.env)
    if xterm_desk.focused_window() != xterm_desk.window:
        xterm_desk.focus_target()
    xterm_desk.wait_quiet(0.1)
    xterm_desk.clear()
    return xterm_desk


def xclip_copy(x: XtermSession, data: bytes, mime: str = "UTF8_STRING") -> None:
    x.run("xclip", "-selection", "clipboard", "-t", mime, "-in", input=data, check=True)
    until_it_reads(x.run, ["xclip", "-selection", "clipboard", "-t", mime, "-o"], data)


def test_typing_lands_exactly_in_xterm_with_unicode_and_newlines(xterm):
    for _ in range(3):
        xterm.clear()
        assert type_sink().deliver(TEXT) is None
        assert_arrives_exactly(xterm, TEXT)
    xterm.clear()
    type_sink().deliver(hundred_words())
    assert_arrives_exactly(xterm, hundred_words(), 30)


def test_typing_more_distinct_characters_than_spare_keycodes(xterm):
    text = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ αβγδεζηθικλμνξοπρστυφχψω АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩ"
    spare = sum(1 for line in xterm.run("xmodmap", "-pke", stdout=subprocess.PIPE, text=True).stdout.splitlines()
                if not line.split("=", 1)[1].strip())
    assert len(set(text) - {" "}) > 2 * spare  # typed in segments, keycodes bound anew between them
    type_sink().deliver(text)
    assert_arrives_exactly(xterm, text, 30)


def test_focused_window_on_x11_without_a_window_manager(xterm):
    window = focused_window()
    assert window is not None and window.id == f"x11:{xterm.window}"
    assert window.names[:2] == ("xterm", "v2m-xterm")
    assert keys_for(window) == "ctrl+shift+v"


def test_paste_into_xterm_brings_the_previous_clipboard_back(xterm):
    previous = f"copied before {uuid.uuid4().hex}"
    xclip_copy(xterm, previous.encode())
    assert paste_sink().deliver(TEXT) is None
    assert_arrives_exactly(xterm, TEXT)
    assert read_back(xterm.run, ["xclip", "-selection", "clipboard", "-o"]) == previous


def test_paste_into_xterm_restores_an_image(xterm):
    image = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 100
    xclip_copy(xterm, image, "image/png")
    assert paste_sink().deliver("over an image") is None
    assert_arrives_exactly(xterm, "over an image")
    targets = read_back(xterm.run, ["xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"]).split()
    assert "image/png" in targets and "UTF8_STRING" not in targets
    assert xterm.run("xclip", "-selection", "clipboard", "-t", "image/png", "-o", stdout=subprocess.PIPE).stdout == image


def test_200_clipboard_writes_each_read_back_at_once_with_xclip(xterm):
    values = [f"v2m-xclip-{i}-{uuid.uuid4().hex[:8]}" for i in range(200)]
    sink, wrong = ClipboardSink(), []
    with busy_cores(2):
        for value in values:
            sink.deliver(value)
            got = read_back(xterm.run, ["xclip", "-selection", "clipboard", "-o"])
            wrong += [] if got == value else [(value, got)]
    assert wrong == []


@pytest.fixture
def xsel_only(xterm, tmp_path, monkeypatch):
    """PATH without xclip: the X11 clipboard falls back to xsel."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("xsel", "xdotool", "xprop", "xmodmap", "yes"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    assert isinstance(clipboard_tools.pick_backend(), clipboard_tools.XselClipboard)
    return xterm


def test_xsel_writes_are_confirmed_too(xsel_only):
    sink, wrong = ClipboardSink(), []
    with busy_cores(2):
        for i in range(50):
            value = f"v2m-xsel-{i}-{uuid.uuid4().hex[:8]}"
            sink.deliver(value)
            got = subprocess.run(["xsel", "--clipboard", "--output"], env=xsel_only.client_env(), capture_output=True,
                                 timeout=5).stdout.decode()
            wrong += [] if got == value else [(value, got)]
    assert wrong == []


def test_paste_with_xsel_waits_and_restores_text(xsel_only):
    ClipboardSink().deliver("before xsel")  # confirmed: raw xsel returns before it owns the clipboard
    assert paste_sink(settle_s=0.2).deliver("pasted with xsel") is None
    assert_arrives_exactly(xsel_only, "pasted with xsel")
    assert ClipboardSink().read() == "before xsel"
