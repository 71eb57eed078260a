"""The remote-then-local wrappers on fakes: per-pass fallback, cooldown, lazy local load, records."""

from __future__ import annotations

import array

import pytest

from tests.fakes import FakeTranscriber
from v2m.application.engine_fallback import EngineChoice, EngineTally, FallbackFileTranscriber, FallbackTranscriber
from v2m.domain.errors import MediaError, ModelError
from v2m.domain.transcript import DecodeRequest, HeardBefore


def pcm(value: int, frames: int = 10) -> bytes:
    return array.array("h", [value] * 480 * frames).tobytes()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Remote(FakeTranscriber):
    model_name = "whisper-1 at https://api.example/v1"

    def transcribe(self, pcm, request=DecodeRequest()):
        if request.before is not None:
            return None
        return super().transcribe(pcm, request)


def build(remote_fails=False, use_remote=True, keep_warm=False):
    clock, loads = Clock(), []
    remote, local = Remote(fail=remote_fails), FakeTranscriber()
    local.model_name = "tiny.en"
    choice = EngineChoice(lambda: use_remote, lambda: loads.append(1), keep_warm=lambda: keep_warm,
                          cooldown_s=30, clock=clock)
    return FallbackTranscriber(remote, local, choice), remote, local, clock, loads


def test_remote_pass_leaves_the_local_model_unloaded():
    wrapper, _, local, _, loads = build()
    wrapper.load()
    assert wrapper.transcribe(pcm(7))[0].text == "w7"
    assert wrapper.last_engine == "openai" and loads == [] and local.calls == []
    assert wrapper.choice.status() == {"engine": "openai", "remote_ok": True, "fallbacks": 0,
                                       "last_remote_error": "", "local_loaded": False, "passes": {"openai": 1}}


@pytest.mark.parametrize("use_remote, keep_warm, loaded", [(False, False, True), (True, True, True),
                                                            (True, False, False)])
def test_the_local_model_loads_at_start_only_when_needed(use_remote, keep_warm, loaded):
    wrapper, *_, loads = build(use_remote=use_remote, keep_warm=keep_warm)
    wrapper.load()
    assert bool(loads) is loaded


def test_a_failing_remote_falls_back_then_cools_down_then_is_tried_again():
    wrapper, remote, _, clock, loads = build(remote_fails=True)
    assert wrapper.transcribe(pcm(3))[0].text == "w3"
    assert wrapper.last_engine == "local" and "model exploded" in wrapper.choice.last_fallback
    assert len(remote.requests) == 1 and loads == [1]
    clock.now += 10
    wrapper.transcribe(pcm(4))
    assert len(remote.requests) == 1 and "skipped for 30 s" in wrapper.choice.last_fallback  # cooling down
    clock.now += 25
    remote.fail = False
    assert wrapper.transcribe(pcm(5))[0].text == "w5" and wrapper.last_engine == "openai"
    assert loads == [1] and wrapper.choice.counts() == {"local": 2, "openai": 1}


def test_a_reading_with_context_is_none_from_the_remote_and_not_counted():
    wrapper, *_ = build()
    assert wrapper.transcribe(pcm(1), DecodeRequest(before=HeardBefore(pcm(2), "w2"))) is None
    assert wrapper.choice.counts() == {}


def test_the_tally_says_which_engines_made_a_dictation():
    wrapper, remote, *_ = build()
    tally = EngineTally(wrapper)
    tally.transcribe(pcm(1))
    assert tally.engine == "openai" and tally.model_label == "whisper-1 at https://api.example/v1"
    remote.fail = True
    tally.transcribe(pcm(2))
    assert tally.engine == "openai+local" and tally.model_label.endswith(" + tiny.en")
    assert "model exploded" in tally.fell_back
    assert EngineTally(FakeTranscriber()).model_label == "fake-model"  # a plain transcriber: no engines


class Files:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.paths = error, []

    def transcribe_file(self, path, on_progress=None, prompt=""):
        self.paths.append(path)
        if self.error:
            raise self.error
        return f"transcript of {path}"


def test_a_file_falls_back_whole_but_an_unreadable_file_does_not():
    loads: list[int] = []
    choice = EngineChoice(lambda: True, lambda: loads.append(1))
    remote, local = Files(ModelError("remote down")), Files()
    files = FallbackFileTranscriber(remote, local, choice)
    assert files.transcribe_file("a.wav") == "transcript of a.wav" and files.last_engine == "local"
    choice2 = EngineChoice(lambda: True, lambda: None)
    files2 = FallbackFileTranscriber(Files(MediaError("not audio")), local, choice2)
    with pytest.raises(MediaError):
        files2.transcribe_file("b.txt")
    assert local.paths == ["a.wav"] and loads == [1]
