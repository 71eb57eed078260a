"""Hold-to-talk and the sound cues in the dictation service, with fakes:
a tap is cancelled, a stop racing its start never leaves a recording
behind, and the cues are played around the microphone, never during it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import (FakeConfigStore, FakeHistory, FakeNotifier, FakeSink, FakeSource, FakeSpool,
                         FakeTelemetry, FakeTranscriber, FakeVad, RecordingEvents)
from tests.unit.test_dictation import THREE_UTTERANCES
from v2m.application.daemon_control import DaemonControl
from v2m.application.dictation import DictationService
from v2m.application.dictation_session import DictationOptions
from v2m.application.hold_to_talk import STRAY_STOP_S
from v2m.domain.errors import InvalidState
from v2m.domain.state import DaemonState


class Clock:
    """The service's clock, read when a START or STOP arrives; `read` is
    set at each reading, so a test knows a request has arrived."""

    def __init__(self) -> None:
        self.now = 100.0
        self.read = threading.Event()

    def __call__(self) -> float:
        self.read.set()
        return self.now


class Timeline:
    """What happened, in order: the cues and the microphone."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.in_start_cue = threading.Event()
        self.finish_start_cue = threading.Event()
        self.finish_start_cue.set()

    def source(self, frames):
        timeline = self

        class Source(FakeSource):
            def start(self, on_frame, on_error):
                timeline.steps.append("mic open")
                super().start(on_frame, on_error)

            def stop(self, drain=True):
                super().stop(drain)
                timeline.steps.append("mic closed")
        return Source(frames)

    def play_start(self) -> None:
        self.steps.append("start cue")
        self.in_start_cue.set()
        assert self.finish_start_cue.wait(5)
        self.steps.append("start cue played")

    def play_stop(self) -> None:
        self.steps.append("stop cue")


class Hold:
    def __init__(self, min_hold_ms: int = 300, cues: bool = True, frames=THREE_UTTERANCES) -> None:
        self.clock, self.timeline = Clock(), Timeline()
        self.control = DaemonControl(FakeConfigStore(), RecordingEvents(), FakeTelemetry(), version="t",
                                     request_shutdown=lambda: None)
        self.history, self.spool, self.sink = FakeHistory(), FakeSpool(), FakeSink("type")
        self.sources: list[FakeSource] = []

        def source():
            self.sources.append(self.timeline.source(frames))
            return self.sources[-1]
        self.service = DictationService(
            self.control, source=source, vad=FakeVad, transcriber=FakeTranscriber(),
            worker=ThreadPoolExecutor(1), sinks=lambda: [self.sink], notifier=FakeNotifier(),
            history=self.history, spool=self.spool, events=RecordingEvents(), options=DictationOptions,
            cues=lambda: self.timeline if cues else None, min_hold_ms=lambda: min_hold_ms, clock=self.clock)

    def press(self) -> dict:
        return self.service.start()

    def release_after(self, ms: float) -> dict:
        self.clock.now += ms / 1000
        self.sources[-1].done.wait(5)
        return self.service.stop()


def test_a_press_held_past_the_minimum_delivers_the_dictation():
    hold = Hold()
    assert hold.press() == {"state": "recording"}
    reply = hold.release_after(2000)
    assert reply["transcription"] == "w1 w2 w3" and hold.sink.received == ["w1 w2 w3"]


def test_a_tap_is_cancelled_and_nothing_is_delivered_or_kept():
    hold = Hold()
    hold.press()
    reply = hold.release_after(120)
    assert reply["cancelled"] is True and reply["tap"] is True and reply["held_ms"] == 120
    assert "audio.min_hold_ms (300 ms)" in reply["message"]
    assert hold.sink.received == [] and hold.history.records == [] and hold.spool.discarded == 1
    assert hold.sources[-1].stopped and hold.control.state is DaemonState.IDLE
    assert hold.timeline.steps[-2:] == ["mic closed", "stop cue"]


def test_zero_turns_the_tap_rule_off_and_toggle_never_has_it():
    hold = Hold(min_hold_ms=0)
    hold.press()
    assert hold.release_after(10)["transcription"] == "w1 w2 w3"
    hold = Hold()
    hold.service.toggle()
    hold.sources[-1].done.wait(5)
    assert hold.service.toggle()["transcription"] == "w1 w2 w3"  # the same instant: not a tap


def test_a_stop_arriving_while_the_start_plays_its_cue_waits_and_then_stops():
    hold = Hold(min_hold_ms=0)
    hold.timeline.finish_start_cue.clear()
    started = threading.Thread(target=hold.press)
    started.start()
    assert hold.timeline.in_start_cue.wait(5)  # the START holds the control lock, the mic not yet open
    hold.clock.read.clear()
    replies: list[dict] = []
    stopping = threading.Thread(target=lambda: replies.append(hold.service.stop()))
    stopping.start()
    assert hold.clock.read.wait(5)  # the STOP has arrived; it now waits for the lock
    assert "mic open" not in hold.timeline.steps
    hold.timeline.finish_start_cue.set()
    started.join(5)
    stopping.join(10)
    assert replies and replies[0]["state"] == "idle"  # it stopped the recording the START made
    assert hold.timeline.steps[:4] == ["start cue", "start cue played", "mic open", "mic closed"]
    assert hold.control.state is DaemonState.IDLE and hold.sources[-1].stopped


def test_the_same_race_within_the_minimum_is_a_tap():
    hold = Hold()
    hold.timeline.finish_start_cue.clear()
    started = threading.Thread(target=hold.press)
    started.start()
    assert hold.timeline.in_start_cue.wait(5)
    hold.clock.now += 0.05
    hold.clock.read.clear()
    replies: list[dict] = []
    stopping = threading.Thread(target=lambda: replies.append(hold.service.stop()))
    stopping.start()
    assert hold.clock.read.wait(5)
    hold.timeline.finish_start_cue.set()
    started.join(5)
    stopping.join(10)
    assert replies[0]["tap"] is True and hold.control.state is DaemonState.IDLE and hold.sources[-1].stopped


def test_a_start_whose_stop_came_first_never_opens_the_microphone():
    hold = Hold(min_hold_ms=0)
    with pytest.raises(InvalidState, match="not recording"):
        hold.service.stop()  # the release's client was faster than the press's
    hold.clock.now += 0.2
    reply = hold.press()
    assert reply["state"] == "idle" and reply["cancelled"] is True and "stop arrived first" in reply["message"]
    assert hold.sources == [] and hold.timeline.steps == [] and hold.control.state is DaemonState.IDLE
    # That stop is used up: the next press records.
    assert hold.press() == {"state": "recording"}
    hold.service.cancel()


def test_a_start_long_after_a_stray_stop_records():
    hold = Hold()
    with pytest.raises(InvalidState):
        hold.service.stop()
    hold.clock.now += STRAY_STOP_S + 0.1
    assert hold.press() == {"state": "recording"}
    hold.service.cancel()


def test_the_cues_are_played_around_the_microphone_never_while_it_is_open():
    hold = Hold()
    hold.press()
    assert hold.timeline.steps == ["start cue", "start cue played", "mic open"]
    hold.release_after(1000)
    assert hold.timeline.steps[3:] == ["mic closed", "stop cue"]
    hold.press()
    hold.service.cancel()
    assert hold.timeline.steps[-2:] == ["mic closed", "stop cue"]
    hold.press()
    hold.service.close()  # the daemon stops: no sound
    assert hold.timeline.steps[-1] == "mic closed"


def test_without_cues_nothing_is_played():
    hold = Hold(cues=False)
    hold.press()
    hold.release_after(1000)
    assert hold.timeline.steps == ["mic open", "mic closed"]


def test_a_microphone_failing_at_once_is_not_a_tap():
    frames = THREE_UTTERANCES
    hold = Hold(frames=frames)
    hold.timeline.source = lambda frames: FakeSource(frames, fail_after=len(frames) - 1)
    hold.press()  # no time passes: the failure ends the dictation, which keeps its words
    for _ in range(250):
        if hold.history.records:
            break
        threading.Event().wait(0.02)
    assert hold.history.records and hold.history.records[0]["text"] == "w1 w2 w3"
