"""Shared fixtures: every test gets private XDG directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The release checks need root, debootstrap and a built dist/; they run in
# their own tox env (`tox -e release`), which sets V2M_RELEASE_TESTS=1.
collect_ignore = [] if os.environ.get("V2M_RELEASE_TESTS") == "1" else ["release"]

XDG_VARS = ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every XDG directory at a fresh temp dir (runtime dir 0700)."""
    dirs = {}
    for var in XDG_VARS:
        d = tmp_path / var.lower()
        d.mkdir(mode=0o700)
        monkeypatch.setenv(var, str(d))
        dirs[var] = d
    for name in list(os.environ):
        if name.startswith("V2M_") and "__" in name:
            monkeypatch.delenv(name)
    return dirs


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    """Synthesized speech, made once per test session."""
    from tests.support import speech

    d = tmp_path_factory.mktemp("speech")
    for i, sentence in enumerate(speech.SENTENCES):
        speech.say(sentence, d / f"s{i}.wav")
    speech.dictation(speech.SENTENCES, d / "dictation.wav")
    speech.write_pcm(d / "silence.wav", speech.silence(3.0))
    speech.white_noise(3.0, 0.1, d / "noise.wav")
    return d


@pytest.fixture(scope="session")
def pulse():
    """A private PulseAudio server: the null sink's monitor is the microphone."""
    from tests.support.pulse import PulseServer

    server = PulseServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def xvfb():
    from tests.support.xvfb import Xvfb

    server = Xvfb().start()
    yield server
    server.stop()


@pytest.fixture
def hub(xdg, monkeypatch):
    """A local hub serving the bundled tiny.en files as tiny.en and as base.en."""
    from tests.support.fake_hub import FakeHub
    from v2m.infrastructure.models.model_locator import bundled_model

    server = FakeHub({"Systran/faster-whisper-tiny.en": bundled_model(),
                      "Systran/faster-whisper-base.en": bundled_model()}).start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("HF_HOME", str(xdg["XDG_CACHE_HOME"] / "hf"))
    yield server
    server.stop()
