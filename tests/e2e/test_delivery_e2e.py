"""Dictation end to end into a real app: `v2m daemon` hears the private
PulseAudio "microphone" and types what it heard into foot under headless
sway (tests/support/wayland.py); the daemon reaches sway only through the
absolute socket paths in WAYLAND_DISPLAY and SWAYSOCK. And a daemon without
any display: the reason on stderr, a non-zero exit, the text in the history."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import run_v2m
from tests.support.speech import SENTENCES
from tests.support.wayland import SwaySession, sway_session
from tests.support.wer import wer

SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "I3SOCK")


@pytest.fixture(scope="module")
def sway_desk():
    yield from sway_session()


@pytest.fixture
def foot_desktop(xdg, pulse, sway_desk: SwaySession, notifications, monkeypatch) -> SwaySession:
    """The daemon's session: the microphone, sway with foot focused, typing."""
    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**pulse.env, **sway_desk.env, "V2M_OUTPUT__SINKS": "type"}.items():
        monkeypatch.setenv(name, value)
    if sway_desk.focused_app_id() != sway_desk.app_id:
        sway_desk.focus_target()
    sway_desk.wait_quiet(0.1)
    sway_desk.clear()
    return sway_desk


def dictate(pulse, wav) -> str:
    assert run_v2m("toggle").returncode == 0
    pulse.play(wav).wait()
    time.sleep(0.5)
    out = run_v2m("toggle")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_dictations_are_typed_exactly_into_foot_with_a_space_between(foot_desktop, start_daemon, pulse,
                                                                         speech_dir):
    start_daemon().wait_model_loaded()
    first = dictate(pulse, speech_dir / "s0.wav")
    assert first  # what was heard is not the point here: that all of it lands
    foot_desktop.wait_for(first, 10)
    assert foot_desktop.wait_quiet(0.2) == first  # every character, the first one too
    second = dictate(pulse, speech_dir / "s1.wav")
    both = f"{first} {second}"  # not "...word.Next": the separator, same window, moments later
    foot_desktop.wait_for(both, 10)
    assert foot_desktop.wait_quiet(0.2) == both


def test_without_a_display_the_reason_is_on_stderr_and_the_text_in_the_history(xdg, pulse, notifications,
                                                                              start_daemon, speech_dir,
                                                                              monkeypatch):
    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**pulse.env, "V2M_OUTPUT__SINKS": "type,clipboard"}.items():
        monkeypatch.setenv(name, value)
    start_daemon().wait_model_loaded()
    assert run_v2m("toggle").returncode == 0
    pulse.play(speech_dir / "s2.wav").wait()
    time.sleep(0.5)
    out = run_v2m("toggle")
    reason = "no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)"
    assert out.returncode == 3, (out.returncode, out.stderr)
    assert f"type failed: {reason}" in out.stderr and f"clipboard failed: {reason}" in out.stderr
    text = out.stdout.strip()
    assert wer(SENTENCES[2], text) <= 0.5, text
    history = json.loads(run_v2m("history", "--json").stdout)
    assert history[-1]["text"] == text
    assert reason in notifications.read_text()
