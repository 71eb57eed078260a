"""The cue player against a private PulseAudio: the start cue is played
out before play_start returns, the stop cue plays without holding the
stop, and a player that cannot play costs a warning, not the dictation."""

from __future__ import annotations

import logging
import time

import pytest

from tests.e2e.test_sound_cues_e2e import HEARD, MonitorRecording, likeness
from v2m.infrastructure.audio.cues import NOTE_MS, START_NOTES, STOP_NOTES, CuePlayer, tone

CUE_S = 2 * NOTE_MS / 1000


@pytest.fixture
def speakers(pulse, monkeypatch, tmp_path):
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    monitor = MonitorRecording(pulse, tmp_path / "monitor.raw")
    yield monitor
    monitor.stop()


def test_the_start_cue_has_played_when_play_start_returns(speakers):
    player = CuePlayer()
    player.play_start()  # the first call also finds the player
    took = []
    for _ in range(3):
        started = time.monotonic()
        player.play_start()
        took.append(time.monotonic() - started)
    assert min(took) >= CUE_S  # it waited for the whole cue...
    assert min(took) < CUE_S + 0.15, took  # ...and not much longer: the start's reply waits for it
    assert speakers.wait_for(tone(START_NOTES)) >= HEARD


def test_the_stop_cue_does_not_hold_the_stop_and_is_played(speakers):
    player = CuePlayer()
    player.play_start()
    started = time.monotonic()
    player.play_stop()
    assert time.monotonic() - started < CUE_S / 2
    assert speakers.wait_for(tone(STOP_NOTES)) >= HEARD


def test_a_failing_or_missing_player_is_a_warning_once(speakers, tmp_path, caplog):
    broken = tmp_path / "broken-player"
    broken.write_text("#!/bin/sh\necho 'Connection refused' >&2\nexit 1\n")
    broken.chmod(0o755)
    player = CuePlayer(players=((str(broken),), ("no-such-player-v2m",)))
    with caplog.at_level(logging.WARNING):
        player.play_start()
        player.play_stop()
        player.play_start()
    warnings = [r.getMessage() for r in caplog.records if "feedback.sounds" in r.getMessage()]
    assert len(warnings) == 1 and "Connection refused" in warnings[0]
    assert likeness(speakers.out.read_bytes(), tone(START_NOTES)) < HEARD
