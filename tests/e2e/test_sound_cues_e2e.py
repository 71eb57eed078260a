"""feedback.sounds end to end: `v2m daemon` plays its start and stop cues
through the private PulseAudio, whose default sink's monitor is the
microphone, so a cue played while the microphone is open would be heard.

Two recordings are compared: what the daemon captured (read from its
crash spool through a descriptor opened while it records, which outlives
the spool's removal at the stop) and the sink's monitor recorded by the
test the whole time. The monitor must hold both cues (they were played,
through the same server) and the daemon's capture none of them: with
nothing else playing, not one sample that is not zero; with speech, no
match for a cue (a normalised cross-correlation with its own samples,
which finds a cue that the test plays while the microphone is open).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import run_v2m
from tests.support.pulse import SINK
from tests.support.speech import SENTENCES, write_pcm
from tests.support.wer import wer
from v2m.config import paths
from v2m.infrastructure.audio.cues import START_NOTES, STOP_NOTES, tone

HEARD = 0.9      # a whole cue in the audio correlates at about 1.0 (the same samples, not resampled)
NOT_HEARD = 0.5  # the test speech reaches 0.27; a third of a cue (23 ms) would reach 0.58


def likeness(audio: bytes, cue: bytes) -> float:
    """The highest normalised cross-correlation of `cue` anywhere in `audio`."""
    x = np.frombuffer(audio, "<i2").astype(np.float64)
    c = np.frombuffer(cue, "<i2").astype(np.float64)
    if len(x) < len(c):
        return 0.0
    dots = np.correlate(x, c, "valid")
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    norms = np.sqrt(energy[len(c):] - energy[:-len(c)]) * np.linalg.norm(c)
    return float(np.max(np.where(norms > 1e-3 * np.linalg.norm(c) * 32767, dots / np.maximum(norms, 1e-9), 0.0)))


class MonitorRecording:
    """Everything the sink plays, recorded by the test (not the daemon)."""

    def __init__(self, pulse, out: Path) -> None:
        self.out = out
        with open(out, "wb") as sink:
            self.proc = subprocess.Popen(
                ["parec", f"--device={SINK}.monitor", "--raw", "--format=s16le", "--rate=16000", "--channels=1",
                 "--latency-msec=20"], stdout=sink, env=pulse.client_env())
        deadline = time.monotonic() + 10
        while out.stat().st_size == 0:  # recording: the sink's silence flows in
            assert self.proc.poll() is None and time.monotonic() < deadline, "parec did not start"
            time.sleep(0.01)

    def wait_for(self, cue: bytes, timeout_s: float = 5) -> float:
        deadline = time.monotonic() + timeout_s
        while (score := likeness(self.out.read_bytes(), cue)) < HEARD and time.monotonic() < deadline:
            time.sleep(0.05)
        return score

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(5)


@pytest.fixture
def cue_daemon(xdg, pulse, notifications, start_daemon, monkeypatch):
    for name, value in {**pulse.env, "V2M_FEEDBACK__SOUNDS": "true", "V2M_OUTPUT__SINKS": ""}.items():
        monkeypatch.setenv(name, value)
    return start_daemon().wait_model_loaded()


def spool_file():
    """The daemon's spool of the recording in progress, opened: it stays
    readable after the daemon removes it at the stop."""
    found = sorted((paths.state_dir() / "spool").glob("*.pcm"))
    assert len(found) == 1, found
    return open(found[0], "rb")


def test_the_cues_play_through_the_sound_server_and_the_microphone_hears_none_of_them(cue_daemon, pulse,
                                                                                      tmp_path):
    """Nothing else plays: the capture must be digital silence, to the sample."""
    start_cue, stop_cue = tone(START_NOTES), tone(STOP_NOTES)
    monitor = MonitorRecording(pulse, tmp_path / "monitor.raw")
    try:
        assert run_v2m("start").returncode == 0  # replies once the start cue is over and the mic is open
        with spool_file() as captured:
            deadline = time.monotonic() + 10
            while os.fstat(captured.fileno()).st_size < 32000:  # a second of capture
                assert time.monotonic() < deadline
                time.sleep(0.02)
            out = run_v2m("stop")
            heard = captured.read()
        assert "no speech detected" in out.stderr  # nothing at all was heard
        assert monitor.wait_for(start_cue) >= HEARD and monitor.wait_for(stop_cue) >= HEARD  # both were played
    finally:
        monitor.stop()
    assert len(heard) >= 32000 and not any(heard)


def test_a_dictation_with_cues_holds_its_words_and_no_cue(cue_daemon, pulse, speech_dir):
    assert run_v2m("start").returncode == 0
    with spool_file() as captured:
        pulse.play(speech_dir / "s0.wav").wait()
        out = run_v2m("stop")
        assert out.returncode == 0, out.stderr
        heard = captured.read()
    assert likeness(heard, tone(START_NOTES)) < NOT_HEARD and likeness(heard, tone(STOP_NOTES)) < NOT_HEARD
    text = out.stdout.strip()  # and no extra words (tiny.en mishears espeak's voice a little)
    assert len(text.split()) <= len(SENTENCES[0].split()) and wer(SENTENCES[0], text) <= 0.5, text


def test_a_cue_played_while_the_microphone_is_open_is_found(cue_daemon, pulse, speech_dir, tmp_path):
    """What the tests above would see if the daemon played a cue while recording."""
    cue_wav = write_pcm(tmp_path / "cue.wav", tone(START_NOTES))
    assert run_v2m("start").returncode == 0
    with spool_file() as captured:
        pulse.play(cue_wav).wait()
        pulse.play(speech_dir / "s0.wav").wait()
        assert run_v2m("stop").returncode == 0
        heard = captured.read()
    assert likeness(heard, tone(START_NOTES)) >= HEARD


def test_a_missing_player_costs_nothing_but_the_sounds(xdg, pulse, notifications, start_daemon, speech_dir,
                                                        monkeypatch, tmp_path):
    empty = tmp_path / "no-players"
    empty.mkdir()
    env = {**os.environ, **pulse.env, "V2M_FEEDBACK__SOUNDS": "true", "V2M_OUTPUT__SINKS": "",
           "PATH": f"{empty}:{os.environ['PATH']}"}
    for player in ("paplay", "pw-play", "aplay"):  # found first, and failing
        (empty / player).write_text("#!/bin/sh\nexit 1\n")
        (empty / player).chmod(0o755)
    daemon = start_daemon(env=env).wait_model_loaded()
    assert run_v2m("start").returncode == 0
    pulse.play(speech_dir / "s2.wav").wait()
    out = run_v2m("stop")
    assert out.returncode == 0 and wer(SENTENCES[2], out.stdout.strip()) <= 0.5
    assert "cannot play the start and stop sounds" in daemon.output()
