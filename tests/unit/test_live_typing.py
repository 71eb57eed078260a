"""Live typing in the dictation service, with fakes: each final utterance
is typed before the stop, the rules apply per utterance, the stop types
only the rest, and what was typed is always the start of the final text."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from tests.fakes import FakeSink, FakeTranscriber, script
from tests.unit.test_dictation import Rig
from v2m.application.live_typing import LiveTyping, glue, in_sentence_case
from v2m.config import schema
from v2m.domain.errors import ConfigError, OutputError
from v2m.domain.text_rules import TextRules, apply, parse_replacement
from v2m.domain.transcript import DecodeRequest

# Two utterances final while the user talks (600 ms of silence after each),
# the third still open at the stop.
TWO_THEN_ONE = script((0, 10), (1, 40), (0, 30), (2, 40), (0, 30), (3, 40), (0, 2))
PHRASES = {"w1": "hello comma", "w2": "how are you question mark", "w3": "fine period"}
SPOKEN = TextRules(spoken_punctuation=True)


class PhraseTranscriber(FakeTranscriber):
    """Says a phrase per utterance, as Whisper would before the text rules."""

    def transcribe(self, pcm, request=DecodeRequest()):
        return [dataclasses.replace(s, text=" ".join(PHRASES.get(w, w) for w in s.text.split()))
                for s in super().transcribe(pcm, request)]


class LiveSink:
    """The type sink's contract: `deliver_so_far` while the user talks,
    `deliver` types what of the final text is not typed yet."""

    name = "type"
    live = True

    def __init__(self, fail_live: bool = False) -> None:
        self.typed = ""
        self.live_calls: list[str] = []
        self.rest_at_stop: list[str] = []
        self.fail_live = fail_live
        self._changed = threading.Condition()

    def deliver_so_far(self, text: str) -> None:
        if self.fail_live:
            raise OutputError("typing is not possible here")
        assert text.startswith(self.typed), (self.typed, text)
        with self._changed:
            self.live_calls.append(text)
            self.typed = text
            self._changed.notify_all()

    def deliver(self, text: str) -> None:
        assert text.startswith(self.typed), (self.typed, text)
        self.rest_at_stop.append(text[len(self.typed):])
        self.typed = text

    def wait_typed(self, text: str, timeout_s: float = 5) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.typed == text, timeout_s)


def test_each_final_utterance_is_typed_before_the_stop_and_the_stop_types_the_rest():
    sink = LiveSink()
    rig = Rig(TWO_THEN_ONE, sinks=[sink], transcriber=PhraseTranscriber(), rules=SPOKEN)
    rig.service.start()
    # Before any stop: the two finished utterances, the rules applied to each.
    assert sink.wait_typed("Hello, how are you?"), sink.live_calls
    reply = rig.service.stop()
    assert reply["transcription"] == "Hello, how are you? Fine."
    assert sink.typed == reply["transcription"] and sink.rest_at_stop == [" Fine."]
    assert all(reply["transcription"].startswith(t) for t in sink.live_calls)
    # Per utterance gives here what the rules give the whole text.
    assert reply["transcription"] == apply("hello comma how are you question mark fine period", SPOKEN)
    assert rig.history.records[0]["text"] == reply["transcription"]


def test_without_live_the_type_sink_gets_the_whole_text_at_the_stop():
    sink = LiveSink()
    sink.live = False
    rig = Rig(TWO_THEN_ONE, sinks=[sink], transcriber=PhraseTranscriber(), rules=SPOKEN)
    reply = rig.dictate(settle=True)
    assert sink.live_calls == [] and sink.rest_at_stop == [reply["transcription"]]


def test_other_outputs_get_the_whole_final_text():
    live, clipboard = LiveSink(), FakeSink("clipboard")
    rig = Rig(TWO_THEN_ONE, sinks=[live, clipboard], transcriber=PhraseTranscriber(), rules=SPOKEN)
    rig.service.start()
    assert live.wait_typed("Hello, how are you?")
    reply = rig.service.stop()
    assert clipboard.received == [reply["transcription"]] == [live.typed]


def test_when_live_typing_fails_the_stop_delivers_all_of_the_text():
    sink = LiveSink(fail_live=True)
    rig = Rig(TWO_THEN_ONE, sinks=[sink], transcriber=PhraseTranscriber(), rules=SPOKEN)
    reply = rig.dictate(settle=True)
    assert sink.live_calls == [] and sink.rest_at_stop == ["Hello, how are you? Fine."]
    assert reply["outputs"] == {"type": "ok"}


def test_cancel_stops_live_typing_and_keeps_nothing():
    sink = LiveSink()
    rig = Rig(TWO_THEN_ONE, sinks=[sink], transcriber=PhraseTranscriber(), rules=SPOKEN)
    rig.service.start()
    assert sink.wait_typed("Hello, how are you?")
    assert rig.service.cancel()["cancelled"] is True
    assert sink.rest_at_stop == [] and rig.history.records == []


def test_replacements_apply_per_utterance():
    sink = LiveSink()
    rules = TextRules(replacements=(parse_replacement("w2 => second"),))
    rig = Rig(TWO_THEN_ONE, sinks=[sink], rules=rules)
    rig.service.start()
    assert sink.wait_typed("W1 Second")  # the rules capitalise a text's start; "second" is a new word
    assert rig.service.stop()["transcription"] == "W1 Second w3" == sink.typed


@pytest.mark.parametrize("before,part,joined", [
    ("", "Hello.", "Hello."), ("Hello", ", world", "Hello, world"), ("One.", "Two.", "One. Two."),
    ("Line\n", "Next", "Line\nNext"), ("Wait", "\nNext", "Wait\nNext"), ("(", "x", "(x"), ("Done.", "", "Done."),
])
def test_glue_puts_one_space_between_utterances_unless_punctuation_says_otherwise(before, part, joined):
    assert glue(before, part) == joined


@pytest.mark.parametrize("before,raw,text,kept", [
    ("we left,", "and then", "And then", "and then"),     # goes on with the sentence: Whisper's case
    ("we left.", "and then", "And then", "And then"),     # a new sentence
    ("", "and then", "And then", "And then"),             # the dictation's start
    ("we left,", "And then", "And then", "And then"),     # Whisper's own capital
    ("we use", "ai daily", "AI daily", "AI daily"),       # a replacement's own spelling
    ("send an", "e mail", "Email", "email"),
])
def test_an_utterance_inside_a_sentence_keeps_its_lower_case_start(before, raw, text, kept):
    assert in_sentence_case(before, raw, text) == kept


def test_the_final_text_continues_what_was_typed_even_if_the_session_rewrote_it():
    live = LiveTyping([], lambda part: part)
    live.heard("one")
    live.heard("one two")
    live.close()
    live.wait()
    assert live.text_at_stop("one two three") == "one two three"
    assert live.text_at_stop("one TWO three four") == "one two three four"  # kept; the rest added


def test_live_typing_together_with_refinement_is_a_config_error_naming_both_keys():
    defaults = schema.load_defaults()
    with pytest.raises(ConfigError) as caught:
        schema.merge(defaults, {"output": {"live": True}, "llm": {"refine": True}}, "test")
    assert "output.live" in str(caught.value) and "llm.refine" in str(caught.value)
    refining = schema.merge(defaults, {"llm": {"refine": True}}, "test")
    with pytest.raises(ConfigError, match="output.live.*llm.refine"):
        schema.merge(refining, {"output": {"live": True}}, "config set")
    assert schema.merge(defaults, {"output": {"live": True}}, "test")["output"]["live"] is True


def test_a_paste_last_waits_while_an_utterance_is_typed_live():
    """Live typing types from its own thread, outside the stop's delivery: a
    `paste-last` pressed meanwhile must not type into the utterance."""
    from tests.unit.test_paste_last import paste_last_meanwhile

    order: list[str] = []
    inside, release = threading.Event(), threading.Event()

    class SlowLive(LiveSink):
        def deliver_so_far(self, text):
            order.append("live in")
            inside.set()
            release.wait(10)
            super().deliver_so_far(text)
            order.append("live out")

    sink = SlowLive()
    live = LiveTyping([sink], lambda raw: raw)
    live.heard("hello there")
    assert inside.wait(10)
    second = paste_last_meanwhile(order)
    assert second.is_alive() and order == ["live in"]  # waiting, not typing into the utterance
    release.set()
    second.join(10)
    live.close()
    live.wait()
    assert order == ["live in", "live out", "paste-last"] and sink.typed == "hello there"


def test_live_typing_turns_revision_off_so_typed_text_is_never_taken_back():
    from tests.unit.test_dictation import LOUD
    from tests.unit.test_revision import Misheard

    sink = LiveSink()
    rig = Rig(LOUD, sinks=[sink], transcriber=Misheard(), provisional=False)
    reply = rig.dictate(settle=True)
    assert reply["transcription"].lower() == "w1 w2 wrong w2000 w3000" and sink.typed == reply["transcription"]
