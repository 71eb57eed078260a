"""OpenAiChatModel (and TextRefiner over it) against a local chat server (tests/support/fake_llm.py)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.support.fake_llm import FakeLlm
from v2m.application.text_refinement import TextRefiner
from v2m.domain.errors import LlmError
from v2m.infrastructure.llm.openai_chat import OpenAiChatModel
from v2m.infrastructure.llm.prompt_files import load_prompt

SECRET = "sk-test-0123456789abcdef-SECRET"
TEXT = "the quick brown fox jumps over the lazy dog"


@pytest.fixture
def llm():
    with FakeLlm() as server:
        yield server


def chat(llm: FakeLlm, **kw) -> OpenAiChatModel:
    options = {"model": "llama-test", "api_key_env": "", "timeout_s": 5.0, "retries": 1, "environ": {}}
    options.update(kw)
    return OpenAiChatModel(llm.base_url + "/", **options)


def test_success_sends_an_openai_request_and_returns_the_content(llm):
    model = chat(llm)
    assert model.complete("be helpful", TEXT) == "The quick brown fox jumps over the lazy dog."
    request = llm.requests[-1]
    assert request.path == "/v1/chat/completions" and llm.count == 1
    assert request.body == {"model": "llama-test", "temperature": 0, "stream": False, "messages": [
        {"role": "system", "content": "be helpful"}, {"role": "user", "content": TEXT}]}
    assert "Authorization" not in request.headers
    assert model.name == f"llama-test at {llm.base_url}"


def test_reasoning_and_quotes_are_stripped(llm):
    llm.mode = "fixed:<think>\nthe user wants...\n</think>\n\n \"Hello there.\" "
    assert chat(llm).complete("s", "hello there") == "Hello there."


def test_timeout_is_retried_then_reported_with_the_url(llm):
    llm.mode, llm.slow_s = "slow", 3.0
    started = time.monotonic()
    with pytest.raises(LlmError) as caught:
        chat(llm, timeout_s=0.5, retries=2).complete("s", TEXT)
    assert llm.count == 3
    assert llm.base_url in str(caught.value) and "within 0.5 s" in str(caught.value)
    assert time.monotonic() - started < 3.0


def test_server_error_is_retried_then_reported(llm):
    llm.mode = "500"
    with pytest.raises(LlmError) as caught:
        chat(llm, retries=1).complete("s", TEXT)
    assert llm.count == 2
    assert f"LLM at {llm.base_url} answered HTTP 500: fake failure 500" == caught.value.message
    assert caught.value.hint


def test_rate_limit_is_retried(llm):
    llm.mode = "429"
    with pytest.raises(LlmError, match="HTTP 429"):
        chat(llm, retries=1).complete("s", TEXT)
    assert llm.count == 2


def test_client_error_is_not_retried(llm):
    llm.mode = "400"
    with pytest.raises(LlmError, match="HTTP 400"):
        chat(llm, retries=3).complete("s", TEXT)
    assert llm.count == 1


def test_wrong_base_url_says_so(llm):
    model = OpenAiChatModel(llm.base_url.removesuffix("/v1"), "m", "", 5.0, 0, environ={})
    with pytest.raises(LlmError, match="HTTP 404") as caught:
        model.complete("s", TEXT)
    assert "base_url" in caught.value.hint


@pytest.mark.parametrize("mode", ["empty", "fixed:<think>only thoughts</think>", "fixed:  "])
def test_empty_output_is_an_error(llm, mode):
    llm.mode = mode
    with pytest.raises(LlmError, match="empty answer"):
        chat(llm).complete("s", TEXT)
    assert llm.count == 1


def test_a_reply_that_is_no_completion_is_an_error(llm):
    llm.mode = "garbage"
    with pytest.raises(LlmError, match="not a chat completion"):
        chat(llm).complete("s", TEXT)


def test_unreachable_server_is_retried_and_named(llm):
    url = llm.base_url
    llm.stop()
    with pytest.raises(LlmError, match="cannot reach LLM at " + url):
        OpenAiChatModel(url, "m", "", 2.0, 1, environ={}).complete("s", TEXT)


def test_bearer_key_is_sent_and_never_logged(llm, caplog):
    caplog.set_level(logging.DEBUG, logger="v2m")
    model = chat(llm, api_key_env="V2M_TEST_KEY", environ={"V2M_TEST_KEY": SECRET})
    assert model.complete("s", TEXT)
    assert llm.requests[-1].headers["Authorization"] == f"Bearer {SECRET}"
    llm.mode = "500"
    with pytest.raises(LlmError) as caught:
        model.complete("s", TEXT)
    assert any("status=200" in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text and SECRET not in str(caught.value)
    assert SECRET not in repr(model) and SECRET not in model.name


def test_a_key_echoed_in_an_error_body_is_masked(llm):
    llm.mode = "fixed:unused"
    model = chat(llm, api_key_env="K", environ={"K": SECRET}, retries=0)
    llm.answer = lambda user: (401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})
    with pytest.raises(LlmError, match="HTTP 401") as caught:
        model.complete("s", TEXT)
    assert SECRET not in str(caught.value) and "$K" in caught.value.hint


def test_missing_key_variable_is_named_without_a_request(llm):
    model = chat(llm, api_key_env="V2M_TEST_MISSING_KEY", environ={"OTHER": SECRET})
    with pytest.raises(LlmError, match="V2M_TEST_MISSING_KEY") as caught:
        model.complete("s", TEXT)
    assert SECRET not in str(caught.value) and llm.count == 0


def test_key_is_read_at_call_time(llm):
    environ: dict[str, str] = {}
    model = chat(llm, api_key_env="V2M_TEST_KEY", environ=environ)
    with pytest.raises(LlmError):
        model.complete("s", TEXT)
    environ["V2M_TEST_KEY"] = SECRET
    assert model.complete("s", TEXT)


# -- TextRefiner over the real adapter ------------------------------------------

def refiner(llm: FakeLlm) -> TextRefiner:
    return TextRefiner(lambda: chat(llm, timeout_s=0.5, retries=1), lambda name: load_prompt(name, None))


def test_refiner_delivers_the_llm_text(llm):
    result = refiner(llm).refine(TEXT)
    assert result.refined and result.text == "The quick brown fox jumps over the lazy dog."
    assert "speech recognition" in llm.requests[-1].body["messages"][0]["content"]


@pytest.mark.parametrize("mode", ["slow", "500", "long", "empty"])
def test_refiner_delivers_the_raw_text_when_the_llm_fails(llm, mode):
    llm.mode = mode
    result = refiner(llm).refine(TEXT)
    assert result.text == TEXT and not result.refined and result.error
    assert llm.count == (1 if mode in ("long", "empty") else 2)


def test_translation_uses_the_language_name_in_the_prompt(llm):
    llm.mode = "fixed:Der schnelle braune Fuchs springt über den faulen Hund."
    result = refiner(llm).translate(TEXT, "de")
    assert result.refined and result.text.startswith("Der schnelle")
    system = llm.requests[-1].body["messages"][0]["content"]
    assert "German" in system and "{language}" not in system


@pytest.mark.parametrize("mode", ["slow", "500", "long"])
def test_translation_falls_back_to_the_raw_text(llm, mode):
    llm.mode = mode if mode != "long" else "fixed:" + "Hund " * 60
    result = refiner(llm).translate(TEXT, "German")
    assert result.text == TEXT and not result.refined and result.error
