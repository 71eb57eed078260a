"""Real desktops to deliver text into, and how the raw tools behave in them.

These prove the fixtures in tests/support/wayland.py (headless sway + foot) and
tests/support/x11_apps.py (Xvfb + xterm) work, and record how wtype, wl-copy,
xdotool, xclip and xsel behave today: which invocations deliver every
character, how fast they type, and how long a copy takes to own the selection.
Numbers are printed (run with -s to see them), not asserted, where they
describe a tool's race rather than a guarantee.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import time
import uuid

import pytest

from tests.support.wayland import SwaySession, sway_session
from tests.support.x11_apps import XtermSession, xterm_session

UNICODE = "Grüße naïve café — “ok”"
# Where the seat has no other keyboard (headless sway; a remote session), the
# seat gains the keyboard capability only when wtype's virtual keyboard
# appears, foot binds a wl_keyboard only then, and the keys wtype sends before
# that are lost: "ello wayland" in about half the runs. Sleeping before the
# first key shrinks the window (-s 1 suffices on an idle machine, -s 20 with
# both cores busy) but no sleep closes it on an overloaded one; a per-key
# delay (-d) does not help. With a keyboard in the seat, as on a real desktop
# (the `sway` fixtures' default), plain wtype delivered every key here.
WTYPE_RELIABLE = ("-s", "50")
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "naïve", "Grüße", "café",
         "—", "“ok”", "voice", "dictation", "types", "every", "word", "into", "the", "focused", "window", "exactly"]


def hundred_words() -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(100))


def report(label: str, value) -> None:
    print(f"\n[measure] {label}: {value}")


@contextlib.contextmanager
def busy_cores(n: int | None = None):
    """Keep every core (or n) busy with `yes > /dev/null` for the duration."""
    hogs = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(n or os.cpu_count() or 2)]
    try:
        yield
    finally:
        for hog in hogs:  # by pid: only what was started here
            hog.kill()
            hog.wait()


def ownership(copy, paste, values: list[str], poll_timeout_s: float = 5.0) -> dict:
    """Write each value with `copy` and read it back at once with `paste`
    (naive), then poll until it reads back; returns counts and latencies."""
    mismatches, stale, hung, latencies, copy_times, read_times = 0, 0, 0, [], [], []
    previous = None
    for value in values:
        t0 = time.monotonic()
        copy(value)
        t1 = time.monotonic()
        copy_times.append(t1 - t0)
        first = paste()
        read_times.append(time.monotonic() - t1)
        if first != value:
            mismatches += 1
            stale += first == previous
        got, started = first, t1
        while got != value:
            hung += got == "<hung>"
            if time.monotonic() - t1 > poll_timeout_s:
                raise AssertionError(f"{value!r} never read back; last read {got!r}")
            time.sleep(0.001)
            started = time.monotonic()
            got = paste()
        latencies.append(started - t1)  # when the first read that got it began
        previous = value

    def ms(xs: list[float]) -> dict:
        xs = sorted(x * 1000 for x in xs)
        return {"median": round(statistics.median(xs), 1), "p95": round(xs[int(0.95 * (len(xs) - 1))], 1),
                "max": round(xs[-1], 1)}

    return {"n": len(values), "naive_mismatches": mismatches, "of_which_previous_value": stale, "reads_hung": hung,
            "owned_after_copy_returned_ms": ms(latencies), "copy_cmd_ms": ms(copy_times), "read_cmd_ms": ms(read_times)}


# --- Wayland: headless sway + foot ---------------------------------------------------


@pytest.fixture(scope="module")
def sway():
    yield from sway_session()


@pytest.fixture
def foot(sway: SwaySession) -> SwaySession:
    """The session with foot focused and nothing typed yet."""
    if sway.focused_app_id() != sway.app_id:
        sway.focus_target()
    sway.wait_quiet(0.1)
    sway.clear()
    return sway


def wl_copy(sway: SwaySession, value: str) -> None:
    # wl-copy forks a child that serves the selection: never capture its output.
    sway.run("wl-copy", "--", value, check=True)


def wl_paste(sway: SwaySession) -> str:
    done = sway.run("wl-paste", "--no-newline", stdout=subprocess.PIPE)
    return done.stdout.decode("utf-8", errors="replace")


def test_sway_runs_unprivileged_with_foot_focused_and_root_clients_connect(foot):
    assert os.path.isabs(foot.env["WAYLAND_DISPLAY"])
    if os.geteuid() == 0:  # wlroots refuses root: the compositor is another user's
        assert os.stat(foot.wayland_display).st_uid != 0
        assert os.stat(foot.runtime).st_mode & 0o777 == 0o700
    assert foot.focused_app_id() == "v2m-foot"
    assert foot.focused()["pid"] == foot.foot.pid
    assert "XDG_RUNTIME_DIR" not in foot.env  # clients need only the absolute socket path
    assert "DISPLAY" not in foot.client_env({"DISPLAY": ":0", "PATH": os.environ["PATH"]})
    assert foot.typed() == ""


def leading_keys_lost(session: SwaySession, flags: tuple[str, ...], runs: int, text: str = "hello wayland"):
    lost = []
    for _ in range(runs):
        session.clear()
        session.run("wtype", *flags, "--", text, check=True)
        got = session.wait_quiet(0.25)
        assert text.endswith(got), got  # keys are lost only at the start
        if got != text:
            lost.append(len(text) - len(got))
    return f"{len(lost)}/{runs} runs lost leading keys (keys lost per bad run: {lost})"


def test_raw_wtype_first_keys_recorded(foot):
    """Today's behaviour, recorded, not asserted: plain `wtype TEXT` with a
    keyboard in the seat, then in a seat without one, plain and with -s 50."""
    report("raw wtype, seat with a keyboard", leading_keys_lost(foot, (), 20))
    bare = SwaySession(keyboard=False).start()
    try:
        report("raw wtype, seat without a keyboard", leading_keys_lost(bare, (), 20))
        report(f"wtype {' '.join(WTYPE_RELIABLE)}, seat without a keyboard",
               leading_keys_lost(bare, WTYPE_RELIABLE, 20))
    finally:
        bare.stop()


def test_wtype_with_a_sleep_before_the_first_key_delivers_exactly(foot):
    text = f"hello wayland {UNICODE}\nsecond line\n"
    for _ in range(5):
        foot.clear()
        foot.run("wtype", *WTYPE_RELIABLE, "--", text, check=True)
        foot.wait_for(text)
        assert foot.wait_quiet(0.1) == text


def test_wtype_typing_speed_on_100_words(foot):
    text = hundred_words()
    t0 = time.monotonic()
    foot.run("wtype", *WTYPE_RELIABLE, "--", text, timeout=60, check=True)
    foot.wait_for(text, timeout_s=30)
    elapsed = time.monotonic() - t0
    assert foot.wait_quiet(0.1) == text
    report(f"wtype {' '.join(WTYPE_RELIABLE)} speed, {len(text)} chars", f"{len(text) / elapsed:.0f} chars/s")


def test_wl_copy_wl_paste_round_trip(foot):
    value = f"{UNICODE}\nline two {uuid.uuid4()}"
    wl_copy(foot, value)
    deadline = time.monotonic() + 5
    while wl_paste(foot) != value:
        assert time.monotonic() < deadline, wl_paste(foot)
        time.sleep(0.01)
    assert foot.typed() == ""  # copying types nothing


def test_ctrl_shift_v_pastes_the_clipboard_into_foot(foot):
    value = f"pasted {UNICODE}\nnext line {uuid.uuid4().hex[:8]}"
    wl_copy(foot, value)
    deadline = time.monotonic() + 5
    while wl_paste(foot) != value:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    foot.run("wtype", *WTYPE_RELIABLE, "-M", "ctrl", "-M", "shift", "-k", "v", "-m", "shift", "-m", "ctrl",
             check=True)
    foot.wait_for(value)
    assert foot.wait_quiet(0.1) == value


def test_wl_copy_selection_ownership_with_busy_cores(foot):
    """How soon wl-paste reads what wl-copy just wrote (200 values, both cores
    busy): recorded, not asserted, except that every value is readable soon."""
    values = [f"v2m-wl-{i}-{uuid.uuid4().hex[:8]}" for i in range(200)]
    with busy_cores():
        stats = ownership(lambda v: wl_copy(foot, v), lambda: wl_paste(foot), values)
    report("wl-copy then wl-paste at once (busy cores)", stats)


# --- X11: Xvfb + xterm ------------------------------------------------------------


@pytest.fixture(scope="module")
def xterm_desk():
    yield from xterm_session()  # its own Xvfb: nothing else moves its focus or selections


@pytest.fixture
def xterm(xterm_desk: XtermSession) -> XtermSession:
    if xterm_desk.focused_window() != xterm_desk.window:
        xterm_desk.focus_target()
    xterm_desk.wait_quiet(0.1)
    xterm_desk.clear()
    return xterm_desk


def xclip_copy(x: XtermSession, value: str, selection: str = "clipboard") -> None:
    # xclip forks a child that serves the selection: never capture its output.
    x.run("xclip", "-selection", selection, "-in", input=value.encode(), check=True)


def read_selection(x: XtermSession, *argv: str, timeout: float = 1.0) -> str:
    """What a reader prints; "<rc N>" if it fails, "<hung>" if it does not
    answer within `timeout` (xsel --output sometimes waits forever on an
    owner that is handing over)."""
    try:
        done = x.run(*argv, stdout=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "<hung>"
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else f"<rc {done.returncode}>"


def xclip_paste(x: XtermSession, selection: str = "clipboard") -> str:
    return read_selection(x, "xclip", "-selection", selection, "-out")


def xsel_copy(x: XtermSession, value: str) -> None:
    x.run("xsel", "--clipboard", "--input", input=value.encode(), check=True)


def xsel_paste(x: XtermSession) -> str:
    return read_selection(x, "xsel", "--clipboard", "--output")


def test_xterm_is_focused_without_a_window_manager(xterm):
    assert xterm.focused_class() == ("v2m-xterm", "XTerm")
    assert xterm.focused_window() == xterm.window
    assert "WAYLAND_DISPLAY" not in xterm.client_env({"WAYLAND_DISPLAY": "/x", "PATH": os.environ["PATH"]})


def test_xdotool_type_delivers_ascii_and_newlines_exactly(xterm):
    text = "hello x11, plain ASCII (1+2=3) & <tags>;\nsecond line\n"
    for _ in range(3):
        xterm.clear()
        xterm.run("xdotool", "type", "--", text, check=True)
        xterm.wait_for(text)
        assert xterm.wait_quiet(0.1) == text


def test_raw_xdotool_type_drops_unicode_recorded(xterm):
    """Today's behaviour, recorded, not asserted: for a character missing from
    the keymap xdotool binds a scratch keycode and unbinds it right after the
    key; xterm often looks the key up after that and drops or swaps it."""
    text, runs, bad = f"{UNICODE}\n", 5, []
    for _ in range(runs):
        xterm.clear()
        xterm.run("xdotool", "type", "--", text, check=True)
        got = xterm.wait_quiet(0.25)
        if got != text:
            bad.append(got)
    report("raw xdotool type of Unicode, runs not exact", f"{len(bad)}/{runs} e.g. {bad[:2]}")


def test_xdotool_type_with_the_keysyms_mapped_delivers_unicode_exactly(xterm):
    text = f"hello x11 {UNICODE}\nsecond line\n"
    with xterm.keysyms_mapped(text):
        for _ in range(5):
            xterm.clear()
            xterm.run("xdotool", "type", "--delay", "0", "--", text, check=True)
            xterm.wait_for(text)
            assert xterm.wait_quiet(0.1) == text


@pytest.mark.parametrize("delay_ms", ["0", "12"])
def test_xdotool_typing_speed_on_100_words(xterm, delay_ms):
    text = hundred_words()
    with xterm.keysyms_mapped(text):
        t0 = time.monotonic()
        xterm.run("xdotool", "type", "--delay", delay_ms, "--", text, timeout=60, check=True)
        xterm.wait_for(text, timeout_s=30)
        elapsed = time.monotonic() - t0
        assert xterm.wait_quiet(0.1) == text
    report(f"xdotool type --delay {delay_ms} (keysyms mapped) speed, {len(text)} chars",
           f"{len(text) / elapsed:.0f} chars/s")


def test_xclip_round_trip(xterm):
    value = f"{UNICODE}\nline two {uuid.uuid4()}"
    xclip_copy(xterm, value)
    deadline = time.monotonic() + 5
    while xclip_paste(xterm) != value:
        assert time.monotonic() < deadline, xclip_paste(xterm)
        time.sleep(0.01)


def test_ctrl_shift_v_pastes_the_clipboard_into_xterm(xterm):
    """Bound by the session's X resource; stock xterm has no CLIPBOARD key."""
    value = f"pasted {UNICODE}\nnext line {uuid.uuid4().hex[:8]}"
    xclip_copy(xterm, value)
    deadline = time.monotonic() + 5
    while xclip_paste(xterm) != value:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    xterm.run("xdotool", "key", "ctrl+shift+v", check=True)
    xterm.wait_for(value)
    assert xterm.wait_quiet(0.1) == value


def test_shift_insert_pastes_primary_into_xterm(xterm):
    value = f"primary {uuid.uuid4().hex[:8]}"
    xclip_copy(xterm, value, "primary")
    deadline = time.monotonic() + 5
    while xclip_paste(xterm, "primary") != value:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    xterm.run("xdotool", "key", "shift+Insert", check=True)
    xterm.wait_for(value)
    assert xterm.wait_quiet(0.1) == value


@pytest.mark.parametrize("tool", ["xclip", "xsel"])
def test_x11_selection_ownership_with_busy_cores(xterm, tool):
    """How soon a read returns what xclip/xsel just wrote (200 values, both
    cores busy): recorded, not asserted, except that every value is readable soon."""
    copy, paste = {"xclip": (xclip_copy, xclip_paste), "xsel": (xsel_copy, xsel_paste)}[tool]
    values = [f"v2m-{tool}-{i}-{uuid.uuid4().hex[:8]}" for i in range(200)]
    with busy_cores():
        stats = ownership(lambda v: copy(xterm, v), lambda: paste(xterm), values)
    report(f"{tool} copy then read at once (busy cores)", stats)
