import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import (FakeChatModel, FakeConfigStore, FakeHistory, FakeNotifier, FakeSink, FakeSource, FakeSpool,
                         FakeTelemetry, FakeTranscriber, FakeVad, RecordingEvents, script)
from v2m.application.daemon_control import DaemonControl
from v2m.application.dictation import DictationService
from v2m.application.dictation_session import DictationOptions
from v2m.application.recovery import recover_spool
from v2m.domain.audio_math import FRAME_BYTES
from v2m.application.text_refinement import TextRefiner
from v2m.domain.errors import AudioDeviceError, InvalidState, ModelError, NoSpeech
from v2m.domain.text_rules import TextRules, parse_replacement

THREE_UTTERANCES = script((0, 10), (1, 40), (0, 30), (2, 40), (0, 30), (3, 40), (0, 30))


class Rig:
    def __init__(self, frames, *, streaming=True, fast_stop=True, transcriber=None, sinks=None, source=None,
                 rules=TextRules(), refiner=None, vocabulary=(), context_ms=6000, provisional=True, language=None,
                 noisy_below_db=DictationOptions().noisy_below_db):
        self.events = RecordingEvents()
        self.control = DaemonControl(FakeConfigStore(), self.events, FakeTelemetry(), version="t",
                                     request_shutdown=lambda: None)
        self.history = FakeHistory()
        self.spool = FakeSpool()
        self.notifier = FakeNotifier()
        self.transcriber = transcriber or FakeTranscriber()
        self.sinks = sinks if sinks is not None else [FakeSink("clipboard", history=self.history)]
        self.source = source or FakeSource(frames)
        self.worker = ThreadPoolExecutor(1)
        self.service = DictationService(
            self.control, source=lambda: self.source, vad=FakeVad, transcriber=self.transcriber,
            worker=self.worker, sinks=lambda: self.sinks, notifier=self.notifier,
            history=self.history, spool=self.spool, events=self.events,
            options=lambda: DictationOptions(streaming=streaming, fast_stop=fast_stop, vocabulary=vocabulary,
                                             context_ms=context_ms, language=language,
                                             noisy_below_db=noisy_below_db,
                                             min_provisional_ms=900 if provisional else 10**9),
            rules=lambda: rules, refiner=lambda: refiner)

    def dictate(self, settle=False):
        assert self.service.toggle() == {"state": "recording"}
        self.source.done.wait(5)
        if settle:  # the user pauses: every pass submitted so far runs before the stop
            self.worker.submit(int).result()
        return self.service.toggle()


def test_dictation_streams_utterances_and_delivers_text():
    rig = Rig(THREE_UTTERANCES)
    reply = rig.dictate()
    assert reply["state"] == "idle" and reply["transcription"] == "w1 w2 w3"
    assert reply["outputs"] == {"clipboard": "ok"}
    assert rig.sinks[0].received == ["w1 w2 w3"]
    assert rig.history.records[0]["text"] == "w1 w2 w3" and rig.history.records[0]["model"] == "fake-model"
    # three committed passes, each prompted with the text before it
    finals = [c for c in rig.transcriber.calls if c[0] < 60 * FRAME_BYTES]
    assert [p for _, p in finals][-3:] == ["", "w1", "w1 w2"]
    assert rig.control.state.value == "idle" and rig.spool.discarded == 1


def test_final_events_are_published_in_order():
    rig = Rig(THREE_UTTERANCES)
    rig.dictate()
    finals = [e["text"] for e in rig.events.events if e.get("type") == "transcription_update" and e["final"]]
    assert finals == ["w1", "w1 w2", "w1 w2 w3"]
    states = [e["state"] for e in rig.events.events if e.get("type") == "state_changed"]
    assert states == ["recording", "transcribing", "idle"]


def test_provisional_updates_precede_the_final_of_a_long_utterance():
    rig = Rig(script((0, 5), (7, 150), (0, 30)))
    rig.dictate()
    updates = [(e["text"], e["final"]) for e in rig.events.events if e.get("type") == "transcription_update"]
    assert ("w7", False) in updates and updates[-1] == ("w7", True)
    assert updates.index(("w7", False)) < updates.index(("w7", True))


def test_history_is_written_before_any_output_and_failures_are_reported():
    rig = Rig(THREE_UTTERANCES)
    broken = FakeSink("type", fail=True, history=rig.history)
    rig.sinks = [broken, FakeSink("clipboard", history=rig.history)]
    reply = rig.dictate()
    assert broken.history_len_at_delivery == [1]
    assert reply["outputs"]["type"].startswith("failed: type is broken")
    assert reply["outputs"]["clipboard"] == "ok" and rig.sinks[1].received == ["w1 w2 w3"]
    assert "type failed" in rig.notifier.shown[-1][0]


def test_silence_is_no_speech_and_nothing_is_saved():
    rig = Rig(script((0, 200)))
    with pytest.raises(NoSpeech):
        rig.dictate()
    assert rig.history.records == [] and rig.transcriber.calls == []
    assert rig.control.state.value == "idle"


def test_batch_mode_transcribes_the_whole_recording_once():
    rig = Rig(THREE_UTTERANCES, streaming=False)
    reply = rig.dictate()
    assert reply["transcription"] == "w1 w2 w3"
    assert [n for n, _ in rig.transcriber.calls] == [len(THREE_UTTERANCES) * FRAME_BYTES]


def test_paused_daemon_refuses_to_record_and_double_start_is_an_error():
    rig = Rig(THREE_UTTERANCES)
    rig.control.pause()
    with pytest.raises(InvalidState, match="paused"):
        rig.service.start()
    rig.control.resume()
    rig.service.start()
    with pytest.raises(InvalidState, match="already recording"):
        rig.service.start()
    rig.service.cancel()


def test_cancel_discards_everything():
    rig = Rig(THREE_UTTERANCES)
    rig.service.start()
    rig.source.done.wait(5)
    assert rig.service.cancel() == {"state": "idle", "cancelled": True}
    assert rig.history.records == [] and rig.spool.discarded == 1
    with pytest.raises(InvalidState):
        rig.service.stop()


def test_missing_microphone_is_a_clear_error_naming_it():
    rig = Rig([], source=FakeSource([], fail_open=True))
    with pytest.raises(AudioDeviceError, match="fake mic"):
        rig.service.start()
    assert rig.control.state.value == "idle"
    assert "fake mic" in rig.notifier.shown[-1][1]


def test_microphone_failing_mid_recording_keeps_the_words_so_far():
    frames = script((0, 5), (4, 40), (0, 30), (5, 40))
    rig = Rig(frames, source=FakeSource(frames, fail_after=75))
    rig.service.start()
    for _ in range(200):
        if rig.history.records:
            break
        threading_wait(0.02)
    assert rig.history.records and rig.history.records[0]["text"] == "w4"
    assert rig.control.state.value == "idle"
    assert any("unplugged" in body for _, body in rig.notifier.shown)


def test_transcription_failure_keeps_the_audio_spooled():
    rig = Rig(THREE_UTTERANCES, transcriber=FakeTranscriber(fail=True))
    with pytest.raises(ModelError):
        rig.dictate()
    assert rig.spool.discarded == 0 and rig.spool.frames
    assert rig.control.state.value == "idle"


def test_status_reports_recording_length_and_model():
    rig = Rig(THREE_UTTERANCES)
    rig.service.start()
    rig.source.done.wait(5)
    status = rig.control.status() | rig.service.status()
    assert status["recording_s"] == pytest.approx(len(THREE_UTTERANCES) * 0.03)
    assert status["model"] == "fake-model"
    rig.service.cancel()


def test_recovery_puts_leftover_audio_into_history():
    rig = Rig([])
    rig.spool = FakeSpool([("old.pcm", b"".join(THREE_UTTERANCES))])
    count = recover_spool(rig.spool, rig.history, rig.service.new_session, "fake-model")
    assert count == 1 and rig.history.records[0]["text"] == "w1 w2 w3"
    assert rig.history.records[0]["recovered"] is True and rig.spool.leftovers() == []


def threading_wait(seconds):
    import threading
    threading.Event().wait(seconds)


def test_stop_after_a_short_pause_reuses_the_speculative_pass():
    # 15 silent frames: past the 240 ms post-roll, short of the 600 ms commit.
    frames = script((0, 5), (6, 40), (0, 15))
    rig = Rig(frames)
    reply = rig.dictate()
    assert reply["transcription"] == "w6"
    assert reply["stop_path"] in ("ready", "joined")
    settled = (5 + 40 + 8) * FRAME_BYTES  # pre-roll from frame 0, speech, 240 ms post-roll
    finals = [c for c in rig.transcriber.calls if c[0] == settled]
    assert len(finals) == 1  # the settled utterance was transcribed once, before the stop
    assert rig.source.drained is False  # the tail was silent: no waiting for in-flight audio


def test_speech_resuming_after_the_post_roll_drops_the_speculation():
    frames = script((0, 5), (6, 40), (0, 12), (7, 40), (0, 30))
    rig = Rig(frames)
    reply = rig.dictate()
    assert reply["transcription"] == "w6 w7"  # one utterance: the pause was under 600 ms
    assert rig.history.records[0]["text"] == "w6 w7"


def test_stop_right_after_speech_runs_one_quick_tail_pass():
    rig = Rig(script((0, 5), (8, 40), (0, 2)))
    reply = rig.dictate()
    assert reply["transcription"] == "w8" and reply["stop_path"] == "tail"
    assert rig.transcriber.quick_calls >= 1 and rig.source.drained is True
    # Only the pass the user waits for narrows its beam.
    assert rig.transcriber.waiting_calls == 1


def test_fast_stop_off_neither_speculates_nor_uses_quick_passes():
    rig = Rig(script((0, 5), (6, 40), (0, 15)), fast_stop=False)
    reply = rig.dictate()
    assert reply["transcription"] == "w6" and reply["stop_path"] == "tail"
    assert rig.transcriber.quick_calls == 0 and rig.transcriber.waiting_calls == 0 and rig.source.drained is True


# Tones loud enough not to count as weak audio (the gate's weak_rms is 0.01).
LOUD = script((0, 10), (1000, 40), (0, 30), (2000, 40), (0, 30), (3000, 40), (0, 30))


def _finals(rig):
    """(prompt, before) of each pass over a whole utterance, in order (the rig
    must have provisional passes off: when they run depends on timing)."""
    return [(p, b) for (n, p), b in zip(rig.transcriber.calls, rig.transcriber.befores) if n < 60 * FRAME_BYTES]


def test_quick_passes_read_the_utterances_just_heard_again_in_front():
    rig = Rig(LOUD, provisional=False)
    assert rig.dictate(settle=True)["transcription"] == "w1000 w2000 w3000"
    finals = _finals(rig)
    # The first is read alone; the second with it, freely (a revision: see
    # test_revision.py); the third hears both again: their audio from the
    # first's start (pre-roll) up to its own start, and their text, not as a prompt.
    assert len(finals) == 2 and finals[0] == ("", None)
    prompt, before = finals[1]
    assert prompt == "" and before.text == "w1000 w2000" and len(before.pcm) == 140 * FRAME_BYTES
    joint = [n // FRAME_BYTES for n, _ in rig.transcriber.calls if n > 60 * FRAME_BYTES]
    assert joint[:1] == [128], joint  # the first two: from the pre-roll to the post-roll


def test_the_pass_left_at_the_stop_reads_alone_with_the_text_as_prompt():
    rig = Rig(script((0, 10), (1000, 40), (0, 30), (2000, 40), (0, 2)), provisional=False)
    assert rig.dictate()["transcription"] == "w1000 w2000"
    assert rig.transcriber.waiting_calls == 1
    assert rig.transcriber.befores[-1] is None and rig.transcriber.calls[-1][1] == "w1000"


def test_in_noise_the_pass_left_at_the_stop_reads_the_context_too():
    """Any recording is noisy under an infinite threshold: the stop's pass
    then hears the utterance before it again, as passes before the stop do
    (the estimate itself: tests/integration/test_vad_noise.py)."""
    rig = Rig(script((0, 10), (1000, 40), (0, 30), (2000, 40), (0, 2)), provisional=False,
              noisy_below_db=math.inf)
    assert rig.dictate()["transcription"] == "w1000 w2000"
    assert rig.transcriber.waiting_calls == 1
    assert rig.transcriber.befores[-1].text == "w1000" and rig.transcriber.calls[-1][1] == ""


def test_context_reaches_back_only_context_ms_and_prompts_with_the_rest():
    rig = Rig(LOUD, context_ms=3000, provisional=False)
    rig.dictate(settle=True)
    prompt, before = _finals(rig)[-1]
    assert before.text == "w2000" and prompt == "w1000"


def test_weak_audio_and_fast_stop_off_are_read_alone():
    rig = Rig(THREE_UTTERANCES, provisional=False)  # tones of 1-3 / 32768: weak, Whisper's no-speech score must judge them
    rig.dictate(settle=True)
    assert len(_finals(rig)) == 3 and all(b is None for _, b in _finals(rig))
    rig = Rig(LOUD, fast_stop=False, provisional=False)
    assert rig.dictate(settle=True)["transcription"] == "w1000 w2000 w3000"
    assert [p for p, _ in _finals(rig)] == ["", "w1000", "w1000 w2000"]
    assert all(b is None for _, b in _finals(rig))


def test_text_rules_apply_to_the_delivered_and_saved_text():
    rig = Rig(THREE_UTTERANCES, rules=TextRules(replacements=(parse_replacement("w2 => two"),)))
    reply = rig.dictate()
    assert reply["transcription"] == "W1 two w3" and rig.sinks[0].received == ["W1 two w3"]
    assert rig.history.records[0] == {**rig.history.records[0], "text": "W1 two w3", "raw": "w1 w2 w3"}


def test_vocabulary_leads_every_prompt():
    rig = Rig(THREE_UTTERANCES, vocabulary=("Kubernetes", "PyAudio"))
    rig.dictate()
    finals = [p for n, p in rig.transcriber.calls if n < 60 * FRAME_BYTES][-3:]
    assert finals == ["Kubernetes, PyAudio.", "Kubernetes, PyAudio. w1", "Kubernetes, PyAudio. w1 w2"]


def _refiner(chat):
    return TextRefiner(lambda: chat, lambda name: f"prompt {name}")


def test_refinement_runs_before_delivery_and_history_keeps_the_raw_text():
    chat = FakeChatModel(reply=lambda text: text.upper())
    rig = Rig(THREE_UTTERANCES, refiner=_refiner(chat))
    reply = rig.dictate()
    assert reply["transcription"] == "W1 W2 W3" and "refine_error" not in reply
    assert rig.sinks[0].received == ["W1 W2 W3"] and chat.calls == [("prompt refine", "w1 w2 w3")]
    assert rig.history.records[0]["text"] == "W1 W2 W3" and rig.history.records[0]["raw"] == "w1 w2 w3"


@pytest.mark.parametrize("chat", [FakeChatModel(error="LLM at http://fake/v1 answered HTTP 500"),
                                  FakeChatModel(reply="w1"), FakeChatModel(reply="")])
def test_refinement_failure_delivers_the_raw_text_and_says_so(chat):
    rig = Rig(THREE_UTTERANCES, refiner=_refiner(chat))
    reply = rig.dictate()
    assert reply["transcription"] == "w1 w2 w3" and reply["refine_error"]
    assert rig.sinks[0].received == ["w1 w2 w3"] and rig.history.records[0]["text"] == "w1 w2 w3"
    assert "raw" not in rig.history.records[0]
    title, body = rig.notifier.shown[-1][:2]
    assert "refinement failed" in title and body == "w1 w2 w3"


def test_provisional_passes_start_only_while_the_user_speaks():
    """In a pause the speculative pass is at most a post-roll away: a
    provisional pass started then would make it queue (live typing's text
    came up to 1.4 s after the utterance's end on busy cores)."""
    from tests.fakes import RecordingEvents as Events
    from v2m.application.dictation_session import DictationSession

    started: list[int] = []

    class Watching(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            if fn.__name__ == "_transcribe_provisional":
                started.append(args[1])  # the frame it reads up to
            return super().submit(fn, *args, **kwargs)

    # Speech with one-frame gaps (a VAD flickering between words), long
    # enough for several provisional intervals; each gap is a pause.
    frames = script((0, 5), *[(7, 19), (0, 1)] * 12, (0, 30))
    speech = {i + 1 for i, f in enumerate(frames) if f[:2] != b"\x00\x00"}  # frames seen after a speech frame
    with Watching(1) as worker:
        session = DictationSession(FakeVad(), FakeTranscriber(delay_s=0.0), worker, Events(),
                                   DictationOptions(min_provisional_ms=90, provisional_interval_ms=90))
        for frame in frames:
            session.feed(frame)
            worker.submit(int).result()  # each pass ends before the next frame: none is ever busy
        session.finish()
    assert len(started) >= 10 and set(started) <= speech
