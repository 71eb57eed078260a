"""TextRefiner with a fake ChatModel, and the pure rules behind it."""

import logging

import pytest

from tests.fakes import FakeChatModel
from v2m.application.text_refinement import Refined, TextRefiner
from v2m.domain.errors import InvalidRequest
from v2m.domain.refinement import clean_completion, is_runaway, within_bounds

RAW = "so i think we should meet on tuesday at three"
PROMPTS = {"refine": "REFINE PROMPT", "translate": "Translate into {language}; keep {braces}."}


def make(model: FakeChatModel) -> TextRefiner:
    return TextRefiner(lambda: model, PROMPTS.__getitem__)


def test_refine_returns_the_llm_text():
    model = FakeChatModel()
    assert make(model).refine(RAW) == Refined("So i think we should meet on tuesday at three.", True, None)
    assert model.calls == [("REFINE PROMPT", RAW)]


def test_llm_error_delivers_the_raw_text(caplog):
    caplog.set_level(logging.WARNING)
    result = make(FakeChatModel(error="LLM at http://x/v1 did not answer within 15 s")).refine(RAW)
    assert result == Refined(RAW, False, "LLM at http://x/v1 did not answer within 15 s")
    assert "did not answer" in caplog.text and "tuesday" not in caplog.text


@pytest.mark.parametrize("reply, percent", [("So, Tuesday.", "27 %"), (RAW + " " + RAW, "202 %")])
def test_out_of_bounds_output_delivers_the_raw_text(reply, percent, caplog):
    caplog.set_level(logging.WARNING)
    result = make(FakeChatModel(reply=reply)).refine(RAW)
    assert result.text == RAW and not result.refined
    assert result.error == f"LLM output was {percent} of the input's length"
    assert "tuesday" not in caplog.text.lower()


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_input_is_returned_without_a_call(blank):
    model = FakeChatModel()
    assert make(model).refine(blank) == Refined(blank, False, None)
    assert make(model).translate(blank, "de") == Refined(blank, False, None)
    assert model.calls == []


def test_the_factories_are_called_per_request():
    models = iter([FakeChatModel(reply="first model."), FakeChatModel(error="down")])
    refiner = TextRefiner(lambda: next(models), PROMPTS.__getitem__)
    assert refiner.refine("first modal").refined
    assert not refiner.refine("first modal").refined


@pytest.mark.parametrize("to", ["German", "de", "DE", "german"])
def test_translate_by_name_or_code(to):
    model = FakeChatModel(reply=" Also ich denke, wir sollten uns am Dienstag um drei treffen. ")
    result = make(model).translate(RAW, to)
    assert result == Refined("Also ich denke, wir sollten uns am Dienstag um drei treffen.", True, None)
    assert model.calls == [("Translate into German; keep {braces}.", RAW)]


def test_translate_to_an_unknown_language_is_an_invalid_request():
    model = FakeChatModel()
    with pytest.raises(InvalidRequest) as caught:
        make(model).translate(RAW, "Germn")
    assert "Germn" in caught.value.message and "German" in caught.value.hint
    assert model.calls == []


@pytest.mark.parametrize("model", [FakeChatModel(error="boom"), FakeChatModel(reply=""),
                                   FakeChatModel(reply=RAW * 5)])
def test_translate_failures_deliver_the_raw_text(model):
    result = make(model).translate(RAW, "fr")
    assert result.text == RAW and not result.refined and result.error


def test_bounds_rules():
    assert within_bounds("hello world", "Hello world.")
    assert within_bounds("yes", "Yes.")  # slack for very short texts
    assert within_bounds("  " + RAW + "\n", RAW)
    assert not within_bounds(RAW, RAW[:30])
    assert not within_bounds(RAW, RAW + " and then we can talk")
    assert within_bounds("", "")
    assert is_runaway(RAW, RAW * 5) and not is_runaway("hi", "Hallo")


@pytest.mark.parametrize("text, user, expected", [
    ("<think>hmm</think>\nHello.", "hello", "Hello."),
    ('"Hello."', "hello", "Hello."),
    ("\u201cHello.\u201d", "hello", "Hello."),
    ('"Hello."', '"hello"', '"Hello."'),
    ('"Hi," she said. "Bye."', "", '"Hi," she said. "Bye."'),
    ("<think>never finished", "x", ""),
])
def test_clean_completion(text, user, expected):
    assert clean_completion(text, user) == expected
