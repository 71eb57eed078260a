"""Language per dictation: detected once on the first utterance's quick
pass and kept, detected again while unsure, fixed languages left alone
(application/language_choice.py, as DictationSession uses it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import FakeTranscriber, FakeVad, RecordingEvents, script
from v2m.application.dictation_session import DictationOptions, DictationSession
from v2m.application.language_choice import LanguageChoice
from v2m.domain.languages import DETECTION_BAR
from v2m.domain.transcript import DecodeRequest

THREE_UTTERANCES = script((0, 10), (1, 40), (0, 30), (2, 40), (0, 30), (3, 40), (0, 30))


class DetectingTranscriber(FakeTranscriber):
    """Detects when asked "auto" (or None, the engine's "auto"): each such
    pass answers the next of `answers`, (language, probability); a
    provisional pass (its short audio) hears `unasked`."""

    def __init__(self, answers: list[tuple[str, float]], configured: str = "auto",
                 unasked: tuple[str, float] = ("en", 0.5)) -> None:
        super().__init__()
        self.answers, self.configured, self.unasked = list(answers), configured, unasked
        self.detections = 0

    def transcribe(self, pcm, request=DecodeRequest()):
        language = request.language or self.configured
        if language == "auto":
            self.detections += 1
            provisional = getattr(request.on_language, "__name__", "") == "glimpsed"
            language, probability = self.unasked if provisional else \
                self.answers.pop(0) if self.answers else ("en", 0.5)
        else:
            probability = 1.0
        if request.on_language:
            request.on_language(language, probability)
        return super().transcribe(pcm, request)


def dictate(transcriber, language=None, frames=THREE_UTTERANCES, provisional=False):
    events = RecordingEvents()
    options = DictationOptions(language=language, min_provisional_ms=900 if provisional else 10**9)
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(FakeVad(), transcriber, worker, events, options)
        assert session.language_used == ("" if language in (None, "auto") else language)
        for frame in frames:
            session.feed(frame)
        text = session.finish()
    return session, text, events


def test_a_sure_detection_is_made_once_and_kept_for_the_dictation():
    engine = DetectingTranscriber([("es", 0.97)])
    session, text, events = dictate(engine, "auto")
    assert text == "w1 w2 w3" and session.language_used == "es"
    assert engine.detections == 1
    assert [r.language for r in engine.requests] == ["auto"] + ["es"] * (len(engine.requests) - 1)
    assert all(r.window_s == DictationOptions.quick_window_s for r in engine.requests)  # the quick window
    updates = [e for e in events.events if e["type"] == "transcription_update"]
    assert updates and all(e["language"] == "es" for e in updates)


def test_an_unsure_detection_is_tried_again_on_the_next_utterance():
    engine = DetectingTranscriber([("pl", 0.6), ("es", 0.8), ("es", 0.95)])
    session, _, _ = dictate(engine, "auto")
    assert engine.detections == 3 and session.language_used == "es"
    assert [r.language for r in engine.requests][3:] == ["es"] * (len(engine.requests) - 3)


def test_while_unsure_the_surest_guess_is_the_language_used():
    engine = DetectingTranscriber([("pl", 0.6), ("es", 0.8), ("cs", 0.7)])
    session, _, _ = dictate(engine, "auto")
    assert engine.detections == 3 and session.language_used == "es"


@pytest.mark.parametrize("language", ["es", "de"])
def test_a_fixed_language_is_never_detected(language):
    engine = DetectingTranscriber([("en", 0.99)])
    session, _, events = dictate(engine, language)
    assert engine.detections == 0 and session.language_used == language
    assert {r.language for r in engine.requests} == {language}
    assert {e["language"] for e in events.events if e["type"] == "transcription_update"} == {language}


def test_the_engines_configured_language_is_the_one_it_reports():
    engine = DetectingTranscriber([], configured="de")
    session, _, _ = dictate(engine, None)
    assert session.language_used == "de" and engine.detections == 0


def test_provisional_passes_do_not_fix_the_language():
    engine = DetectingTranscriber([("es", 0.97)], unasked=("pl", 0.99))  # a provisional pass: "pl"
    session, text, events = dictate(engine, "auto", script((0, 5), (7, 160), (0, 30)), provisional=True)
    assert session.language_used == "es" and text == "w7"
    updates = [(e["final"], e["language"]) for e in events.events if e["type"] == "transcription_update"]
    assert updates[0] == (False, "pl") and updates[-1] == (True, "es")  # shown, then the whole utterance's
    assert sum(r.language == "auto" for r in engine.requests) >= 2  # still detecting after the provisional pass
    # a provisional pass, soon replaced, never pays for a second decoding in the runner-up language
    assert {(getattr(r.on_language, "__name__", ""), r.runner_up) for r in engine.requests} == \
        {("glimpsed", False), ("heard", True)}


def test_the_choice_on_its_own():
    choice = LanguageChoice("auto")
    assert (choice.used, choice.for_pass()) == ("", "auto")
    choice.heard("pl", DETECTION_BAR - 0.01)
    assert (choice.used, choice.for_pass()) == ("pl", "auto")
    choice.heard("es", DETECTION_BAR)
    choice.heard("en", 1.0)  # kept: later passes are not detected, and cannot change it
    assert (choice.used, choice.for_pass()) == ("es", "es")
    fixed = LanguageChoice("de")
    fixed.heard("en", 1.0)
    assert (fixed.used, fixed.for_pass(), fixed.fixed) == ("de", "de", True)
    unsure = LanguageChoice("auto")
    unsure.glimpsed("pl", 0.99)
    assert (unsure.used, unsure.for_pass()) == ("pl", "auto")
    unsure.heard("es", 0.5)
    unsure.glimpsed("it", 0.99)
    assert (unsure.used, unsure.for_pass()) == ("es", "auto")
    configured = LanguageChoice(None)
    assert configured.for_pass() is None
    configured.heard("", 1.0)  # nothing said
    assert configured.used == ""


def test_the_prior_goes_with_each_pass_until_a_detection_is_sure():
    engine = DetectingTranscriber([("it", 0.46), ("es", 0.95)])
    events = RecordingEvents()
    options = DictationOptions(language="auto", language_prior="es", min_provisional_ms=10**9)
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(FakeVad(), engine, worker, events, options)
        for frame in THREE_UTTERANCES:
            session.feed(frame)
        session.finish()
    asked = [(r.language, r.prefer) for r in engine.requests]
    assert asked[:2] == [("auto", "es"), ("auto", "es")]  # detected with the prior, until sure
    assert set(asked[2:]) == {("es", "")} and session.language_sure == "es"
    fixed = LanguageChoice("de", prior="es")
    assert (fixed.prefer, fixed.sure) == ("", "de")
    unsure = LanguageChoice("auto", prior="es")
    unsure.heard("it", 0.46)
    assert (unsure.prefer, unsure.sure, unsure.used) == ("es", "", "it")


def test_the_next_dictation_is_told_the_language_the_last_one_was_sure_of():
    """Short speech often leaves the detection torn between close languages;
    the user's last sure language is the service's prior for the next one."""
    from tests.fakes import FakeSource
    from tests.unit.test_dictation import Rig

    engine = DetectingTranscriber([("es", 0.97), ("it", 0.46), ("pt", 0.5), ("fr", 0.6)])
    rig = Rig(THREE_UTTERANCES, transcriber=engine, language="auto", provisional=False)
    rig.dictate()
    assert {r.prefer for r in engine.requests} == {""}  # nothing known before the first dictation
    first = len(engine.requests)
    rig.source = FakeSource(THREE_UTTERANCES)
    rig.dictate()  # never sure this time: the prior stays
    assert {r.prefer for r in engine.requests[first:]} == {"es"}
    assert rig.history.records[-1]["language"] in ("it", "pt", "fr")
    second = len(engine.requests)
    rig.source = FakeSource(THREE_UTTERANCES)
    rig.dictate()
    assert {r.prefer for r in engine.requests[second:]} == {"es"}


def test_provisional_passes_read_in_the_prior_rather_than_detect():
    engine = DetectingTranscriber([("it", 0.46), ("es", 0.97)], unasked=("th", 0.3))
    options = DictationOptions(language="auto", language_prior="es", min_provisional_ms=900)
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(FakeVad(), engine, worker, RecordingEvents(), options)
        for frame in script((0, 5), (7, 160), (0, 30), (8, 40), (0, 30)):
            session.feed(frame)
        session.finish()
    provisional = [r.language for r in engine.requests if not r.runner_up]
    whole = [r.language for r in engine.requests if r.runner_up]
    assert provisional and set(provisional) == {"es"}  # given, so never detected as "th"
    assert whole[0] == "auto" and session.language_used == "es"
    no_prior = LanguageChoice("auto")
    assert (no_prior.for_pass(whole=False), no_prior.for_pass()) == ("auto", "auto")
    kept = LanguageChoice("auto", prior="es")
    kept.heard("fr", 0.95)
    assert (kept.for_pass(whole=False), kept.for_pass()) == ("fr", "fr")
