"""The remote engine and `v2m serve` through the real daemon and CLI.

NEEDS THE ISSUE-17 WIRING (config keys, bootstrap, CLI); skipped until the
packaged config.toml has `transcription.engine`. What it relies on:

- config: transcription.engine ("local" | "openai"), [transcription.remote]
  base_url, model, api_key_env, timeout_s, keep_local_warm; [server] listen;
- `v2m daemon --serve`, `v2m serve token`;
- the TOGGLE_RECORDING reply carries "engine" ("openai", "local" or
  "openai+local") and, after a fallback, "engine_fallback" (the reason);
  the notification title says "transcribed locally";
- the history record's "model" names the engine(s) that made the text;
- GET_STATUS has "engine": {"engine", "local_loaded", "fallbacks", ...}.

The remote is faster-whisper-server from PyPI on loopback (tests/support/remote_asr.py).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import run_v2m
from tests.support import remote_asr
from tests.support.speech import SENTENCES
from tests.support.wer import wer
from v2m.infrastructure.models.model_locator import bundled_model
from v2m.ipc.client import DaemonClient

DICTATION_WER_BOUND = 0.3
SECRET = "sk-e2e-" + "Kx9" * 12



@pytest.fixture
def fws(tmp_path):
    server = remote_asr.FasterWhisperServer(bundled_model(), tmp_path).start()
    yield server
    server.kill()


def remote_env(fws, speech_dir, **extra: str) -> dict[str, str]:
    return {**os.environ, "V2M_AUDIO__DEVICE": f"file:{speech_dir / 'dictation.wav'}", "V2M_OUTPUT__SINKS": "",
            "V2M_TRANSCRIPTION__ENGINE": "openai", "V2M_TRANSCRIPTION__REMOTE__BASE_URL": fws.base_url,
            "V2M_TRANSCRIPTION__REMOTE__MODEL": "whisper-1",
            "V2M_TRANSCRIPTION__REMOTE__API_KEY_ENV": "V2M_E2E_ASR_KEY", "V2M_E2E_ASR_KEY": SECRET,
            "V2M_TRANSCRIPTION__REMOTE__TIMEOUT_S": "5.0", **extra}


def toggle_twice() -> dict:
    with DaemonClient(timeout_s=180) as client:
        assert client.request("TOGGLE_RECORDING")["status"] == "success"
        reply = client.request("TOGGLE_RECORDING")
    assert reply["status"] == "success", reply
    return reply["data"]


def status(env) -> dict:
    return json.loads(run_v2m("status", "--json", env=env).stdout)


def test_dictation_through_the_remote_engine_then_the_local_fallback(start_daemon, fws, speech_dir, xdg,
                                                                     notifications):
    env = remote_env(fws, speech_dir)
    daemon = start_daemon(env=env)
    assert status(env)["engine"]["local_loaded"] is False  # lazy: not needed yet
    first = toggle_twice()
    reference = " ".join(SENTENCES)
    assert wer(reference, first["transcription"]) <= DICTATION_WER_BOUND, first
    assert first["engine"] == "openai" and "engine_fallback" not in first
    assert status(env)["engine"]["local_loaded"] is False
    fws.kill()  # the server dies: the next dictation completes on the local model
    second = toggle_twice()
    assert wer(reference, second["transcription"]) <= DICTATION_WER_BOUND, second
    assert second["engine"] == "local" and "cannot reach remote engine" in second["engine_fallback"]
    assert "transcribed locally" in notifications.read_text()
    engine = status(env)["engine"]
    assert engine["local_loaded"] is True and engine["fallbacks"] >= 1 and engine["remote_ok"] is False
    history = json.loads(run_v2m("history", "--json", env=env).stdout)
    assert history[-2]["model"].startswith("whisper-1 at http://127.0.0.1") and history[-1]["model"] == "tiny.en"
    daemon.stop()
    logs = daemon.output() + (xdg["XDG_STATE_HOME"] / "v2m" / "daemon.log").read_text()
    assert "remote engine failed" in logs and SECRET not in logs


def test_a_kept_warm_local_model_loads_at_start(start_daemon, fws, speech_dir):
    env = remote_env(fws, speech_dir, V2M_TRANSCRIPTION__REMOTE__KEEP_LOCAL_WARM="true")
    start_daemon(env=env).wait_model_loaded()
    assert status(env)["engine"]["local_loaded"] is True


def test_daemon_serve_answers_the_openai_package_with_the_token(start_daemon, speech_dir):
    import openai
    port = remote_asr.free_port()
    env = {**os.environ, "V2M_SERVER__LISTEN": f"127.0.0.1:{port}", "V2M_OUTPUT__SINKS": ""}
    start_daemon("--serve", env=env).wait_model_loaded()
    token = run_v2m("serve", "token", env=env).stdout.strip()
    assert len(token) >= 40
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0, timeout=120)
    text = client.audio.transcriptions.create(model="whisper-1", file=(speech_dir / "s1.wav").open("rb")).text
    assert wer(SENTENCES[1], text) <= 0.25, text
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0).models.list()
    assert status(env)["server"]["served"] == 1
