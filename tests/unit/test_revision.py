"""Revision: an utterance read alone is read again together with the next
one, and the first one's part of that reading replaces its text
(application/dictation_session.py; domain/transcript.split_revision)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import FakeTranscriber, FakeVad, RecordingEvents, script
from v2m.application.dictation_session import DictationOptions, DictationSession
from v2m.domain.transcript import DecodeRequest, split_revision

LOUD = script((0, 10), (1000, 40), (0, 30), (2000, 40), (0, 30), (3000, 40), (0, 30))


class Misheard(FakeTranscriber):
    """Mishears the first utterance when it hears it alone ("w1000" becomes
    "hear"), and right with the next one's audio after it."""

    def transcribe(self, pcm, request=DecodeRequest()):
        segments = super().transcribe(pcm, request)
        if segments and segments[0].text == "w1000" and request.before is None:
            segments[0] = dataclasses.replace(segments[0], text="hear")
        return segments


def dictate(frames, settle=True, **options):
    events = RecordingEvents()
    engine = Misheard()
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(FakeVad(), engine, worker, events,
                                   DictationOptions(min_provisional_ms=10**9, **options))
        for frame in frames:
            session.feed(frame)
        if settle:  # the user pauses before the stop: every pass so far has run
            worker.submit(int).result()
        text = session.finish()
    finals = [e["text"] for e in events.events if e["type"] == "transcription_update" and e["final"]]
    return text, finals, engine


def test_the_first_utterance_is_revised_by_the_reading_with_the_next():
    text, finals, _ = dictate(LOUD)
    assert finals[0] == "hear"  # read alone first: shown at once
    assert text == "w1000 w2000 w3000" and finals[-1] == text


def test_with_live_typing_nothing_typed_is_taken_back():
    text, finals, _ = dictate(LOUD, revise=False)
    assert text == "hear w2000 w3000"
    assert all(later.startswith(earlier) for earlier, later in zip(finals, finals[1:]))


def test_the_pass_at_the_stop_does_not_revise():
    """The user is waiting for it: it reads the last utterance alone."""
    text, _, engine = dictate(script((0, 10), (1000, 40), (0, 30), (2000, 40), (0, 2)), settle=False)
    assert text == "hear w2000"
    assert len(engine.requests) == 2


def test_a_reading_that_lost_the_first_utterances_words_is_not_taken():
    class Drops(Misheard):
        def transcribe(self, pcm, request=DecodeRequest()):
            segments = super().transcribe(pcm, request)
            if segments and segments[0].text == "w1000 w2000":  # the joint reading kept one word only
                segments[0] = dataclasses.replace(segments[0], text="w2000")
            return segments

    events = RecordingEvents()
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(FakeVad(), Drops(), worker, events, DictationOptions(min_provisional_ms=10**9))
        for frame in LOUD:
            session.feed(frame)
        worker.submit(int).result()
        assert session.finish() == "hear w2000 w3000"


@pytest.mark.parametrize("first, both, cut", [
    ("The quick brown fox jump over the lazy tard.",
     "The quick brown fox jump over the lazy dog. Please send the report.",
     ("The quick brown fox jump over the lazy dog.", "Please send the report.")),
    ("a signal failure here in the city.", "a signal failure near the city. I think so.",
     ("a signal failure near the city.", "I think so.")),
    ("Remember to buy milk.", "Remember to buy milk. Our team", ("Remember to buy milk.", "Our team")),
    ("one two", "one two", ("one two", "")),
    ("abc", "x y z", ("x", "y z")),  # nothing aligned: as many words as it had
])
def test_split_revision_cuts_where_the_first_reading_ends(first, both, cut):
    assert split_revision(first, both) == cut
