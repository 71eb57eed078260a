"""The remote engine (OpenAI audio API) against a real third-party server, and
its fallback to the local model when that server fails.

The server is `faster-whisper-server` from PyPI, on loopback with the bundled
tiny.en (tests/support/remote_asr.py). The faults come from a stdlib server
that answers 500, HTML, a cross-origin redirect, an echo of the key, or
nothing at all.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import RecordingEvents
from tests.support import remote_asr
from tests.support.media import speech_wav
from tests.support.speech import SENTENCES, read_pcm
from tests.support.wer import wer
from v2m.application.dictation_session import DictationOptions, DictationSession
from v2m.application.engine_fallback import EngineChoice, EngineTally, FallbackFileTranscriber, FallbackTranscriber
from v2m.domain.audio_math import FRAME_BYTES
from v2m.domain.transcript import DecodeRequest, HeardBefore
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.asr.openai_remote import (OpenAiAudioClient, OpenAiRemoteTranscriber, RemoteEngineError,
                                                  RemoteOptions)
from v2m.infrastructure.asr.openai_remote_check import check_remote
from v2m.infrastructure.asr.openai_remote_files import OpenAiRemoteFileTranscriber
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber
from v2m.infrastructure.audio.webrtc_vad import WebRtcVoiceDetector
from v2m.infrastructure.models.model_locator import bundled_model

# As the e2e dictation: streaming tiny.en on this espeak-ng dictation scores
# 0.15-0.22; a lost utterance or garbled upload scores 0.4 and more.
DICTATION_WER_BOUND = 0.3
SENTENCE_WER_BOUND = 0.25


@pytest.fixture(scope="module")
def fws(tmp_path_factory):
    if not remote_asr.available():
        pytest.fail("needs faster-whisper-server (the test extra)")
    server = remote_asr.FasterWhisperServer(bundled_model(), tmp_path_factory.mktemp("fws")).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def tiny_en():
    transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
    transcriber.load()
    return transcriber


def remote(base_url: str, **kw) -> OpenAiRemoteTranscriber:
    return OpenAiRemoteTranscriber(OpenAiAudioClient(RemoteOptions(base_url=base_url, api_key_env="", **kw)))


def engines(remote_t, local, cooldown_s: float = 30.0):
    loads: list[int] = []
    choice = EngineChoice(lambda: True, lambda: loads.append(1), cooldown_s=cooldown_s)
    return FallbackTranscriber(remote_t, local, choice), loads


def dictate(transcriber, pcm: bytes, at_half=None) -> tuple[str, float]:
    """A streaming dictation in-process; each pass ends before the next frame,
    as in real time. Returns the text and the stop-to-text time."""
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(WebRtcVoiceDetector(2), transcriber, worker, RecordingEvents(),
                                   DictationOptions())
        frames = range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
        for n, i in enumerate(frames):
            session.feed(pcm[i:i + FRAME_BYTES])
            worker.submit(int).result()
            if at_half and n == len(frames) // 2:
                at_half()
        started = time.monotonic()
        return session.finish(), time.monotonic() - started


def test_an_utterance_goes_up_as_wav_with_prompt_and_language(fws, speech_dir):
    t = remote(fws.base_url)
    (segment,) = t.transcribe(read_pcm(speech_dir / "s1.wav"), DecodeRequest("Quarterly report.", language="en"))
    assert wer(SENTENCES[1], segment.text) <= SENTENCE_WER_BOUND, segment.text
    # A reading with context cannot be made there: None, so the session asks again.
    assert t.transcribe(b"\0" * 3200, DecodeRequest(before=HeardBefore(b"\0" * 3200, "hi"))) is None


def test_a_dictation_through_the_remote_engine_is_as_accurate_as_local(fws, tiny_en, speech_dir):
    pcm, reference = read_pcm(speech_dir / "dictation.wav"), " ".join(SENTENCES)
    wrapper, loads = engines(remote(fws.base_url), tiny_en)
    tally = EngineTally(wrapper)
    text, _ = dictate(tally, pcm)
    local_text, _ = dictate(tiny_en, pcm)
    print(f"remote WER {wer(reference, text):.3f}, local WER {wer(reference, local_text):.3f}")
    assert wer(reference, text) <= DICTATION_WER_BOUND, text
    assert wer(reference, local_text) <= DICTATION_WER_BOUND, local_text
    assert tally.engine == "openai" and tally.fell_back == ""
    assert loads == [] and not wrapper.choice.local_loaded  # the local model never loaded


def test_killing_the_server_mid_dictation_completes_locally_and_says_so(tiny_en, speech_dir, tmp_path):
    if not remote_asr.available():
        pytest.fail("needs faster-whisper-server (the test extra)")
    server = remote_asr.FasterWhisperServer(bundled_model(), tmp_path).start()
    try:
        wrapper, loads = engines(remote(server.base_url, timeout_s=5.0), tiny_en)
        tally = EngineTally(wrapper)
        text, _ = dictate(tally, read_pcm(speech_dir / "dictation.wav"), at_half=server.kill)
    finally:
        server.kill()
    assert wer(" ".join(SENTENCES), text) <= DICTATION_WER_BOUND, text
    assert tally.engine == "openai+local", tally.counts
    assert "cannot reach remote engine" in tally.fell_back and loads == [1]
    assert tally.model_label == f"whisper-1 at {server.base_url} + tiny.en"
    assert wrapper.choice.status()["remote_ok"] is False


@pytest.fixture
def faulty():
    servers = []

    def start(mode: str) -> remote_asr.FaultyServer:
        servers.append(remote_asr.FaultyServer(mode).start())
        return servers[-1]
    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("mode, said", [("500", "HTTP 500: model crashed"), ("html", "not a transcription"),
                                        ("redirect", "redirected (HTTP 307)")])
def test_a_failing_server_falls_back_per_utterance(faulty, tiny_en, speech_dir, mode, said):
    server = faulty(mode)
    wrapper, loads = engines(remote(server.base_url), tiny_en)
    (segment,) = wrapper.transcribe(read_pcm(speech_dir / "s1.wav"), DecodeRequest())
    assert wer(SENTENCES[1], segment.text) <= SENTENCE_WER_BOUND
    assert wrapper.last_engine == "local" and said in wrapper.choice.last_fallback
    assert wrapper.choice.status()["fallbacks"] == 1 and loads == [1]
    assert server.requests[0]["path"] == "/v1/audio/transcriptions"


def test_a_server_that_never_answers_costs_at_most_the_timeout_per_utterance(faulty, tiny_en, speech_dir):
    server = faulty("hang")
    pcm = read_pcm(speech_dir / "s2.wav")
    started = time.monotonic()
    tiny_en.transcribe(pcm, DecodeRequest())
    local_s = time.monotonic() - started
    wrapper, _ = engines(remote(server.base_url, timeout_s=1.0), tiny_en, cooldown_s=0)
    for _ in range(3):  # no cooldown: each utterance tries the remote again
        started = time.monotonic()
        assert wrapper.transcribe(pcm, DecodeRequest())
        assert time.monotonic() - started <= 1.0 + local_s + 0.6
        assert "did not answer within 1 s" in wrapper.choice.last_fallback
    assert len(server.requests) == 3


def test_after_a_failure_the_remote_is_left_alone_for_the_cooldown(faulty, tiny_en, speech_dir):
    server = faulty("hang")
    wrapper, _ = engines(remote(server.base_url, timeout_s=0.5), tiny_en, cooldown_s=30)
    tally = EngineTally(wrapper)
    text, _ = dictate(tally, read_pcm(speech_dir / "dictation.wav"))
    assert wer(" ".join(SENTENCES), text) <= DICTATION_WER_BOUND
    assert len(server.requests) == 1 and tally.engine == "local"  # one timeout paid, not one per pass
    assert "skipped for 30 s" in tally.fell_back


def test_the_key_goes_only_into_the_authorization_header(faulty, tiny_en, speech_dir, monkeypatch, caplog):
    secret = "sk-test-" + "Zq7" * 10
    monkeypatch.setenv("V2M_TEST_ASR_KEY", secret)
    server = faulty("echo")
    client = OpenAiAudioClient(RemoteOptions(base_url=server.base_url, api_key_env="V2M_TEST_ASR_KEY"))
    wrapper, _ = engines(OpenAiRemoteTranscriber(client), tiny_en)
    with caplog.at_level(logging.DEBUG):
        assert wrapper.transcribe(read_pcm(speech_dir / "s0.wav"), DecodeRequest())
        with pytest.raises(RemoteEngineError) as caught:
            OpenAiRemoteTranscriber(client).transcribe(read_pcm(speech_dir / "s0.wav"))
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"  # it was sent
    assert "bad key Bearer ***" in str(caught.value)  # the echo is redacted
    for seen in (caplog.text, str(caught.value), repr(client), str(wrapper.choice.status())):
        assert secret not in seen


def test_a_missing_key_falls_back_and_names_the_variable(faulty, tiny_en, speech_dir, monkeypatch):
    monkeypatch.delenv("V2M_TEST_ABSENT_KEY", raising=False)
    server = faulty("ok")
    client = OpenAiAudioClient(RemoteOptions(base_url=server.base_url, api_key_env="V2M_TEST_ABSENT_KEY"))
    wrapper, _ = engines(OpenAiRemoteTranscriber(client), tiny_en)
    assert wrapper.transcribe(read_pcm(speech_dir / "s0.wav"), DecodeRequest())
    assert "V2M_TEST_ABSENT_KEY" in wrapper.choice.last_fallback and server.requests == []


@pytest.mark.parametrize("upload", ["flac", "opus"])
def test_a_file_goes_up_compressed_in_chunks(fws, tmp_path, upload):
    wav, reference = speech_wav(tmp_path / "talk.wav", SENTENCES * 3)  # 40 s: 3 chunks
    client = OpenAiAudioClient(RemoteOptions(base_url=fws.base_url, api_key_env=""))
    sent: list[tuple[str, bytes, int]] = []
    post = client.post_audio
    client.post_audio = lambda audio, name, *a, **kw: sent.append((name, audio[:4], len(audio))) or post(
        audio, name, *a, **kw)
    files = OpenAiRemoteFileTranscriber(client, upload, chunk_s=20.0)
    progress: list[tuple[float, float]] = []
    result = files.transcribe_file(str(wav), lambda done, total: progress.append((done, total)))
    assert wer(reference, result.text) <= SENTENCE_WER_BOUND, result.text
    assert result.language == "en" and len(progress) == 3 and progress[-1][0] == progress[-1][1]
    magic = {"flac": b"fLaC", "opus": b"OggS"}[upload]
    assert [head for _, head, _ in sent[:2]] == [magic, magic]  # the last chunk (3 s) goes as WAV
    assert sent[0][2] < 17 * 32000 * 0.7  # well under the WAV's size
    starts = [s.start_s for s in result.segments]
    assert starts == sorted(starts) and starts[-1] > 20.0  # the second chunk's cues, in file time


def test_file_falls_back_to_the_local_model_when_the_remote_fails(faulty, tiny_en, tmp_path):
    server = faulty("500")
    wav, reference = speech_wav(tmp_path / "talk.wav")
    client = OpenAiAudioClient(RemoteOptions(base_url=server.base_url, api_key_env=""))
    local = WhisperFileTranscriber(tiny_en.whisper_model, lambda: tiny_en.options)
    choice = EngineChoice(lambda: True, lambda: None)
    files = FallbackFileTranscriber(OpenAiRemoteFileTranscriber(client), local, choice)
    result = files.transcribe_file(str(wav))
    assert wer(reference, result.text) <= SENTENCE_WER_BOUND and files.last_engine == "local"
    assert "HTTP 500" in choice.last_fallback and "HTTP 500" in files.last_fallback


def test_doctor_check_against_the_third_party_server(fws, monkeypatch):
    monkeypatch.delenv("V2M_TEST_ABSENT_KEY", raising=False)
    found = {f["check"]: f for f in check_remote(RemoteOptions(base_url=fws.base_url, api_key_env=""))}
    assert found["remote engine"]["ok"] and found["remote model"]["ok"]
    assert "no /models route" in found["remote model"]["detail"]
    missing = check_remote(RemoteOptions(base_url=fws.base_url, api_key_env="V2M_TEST_ABSENT_KEY"))
    assert [f["ok"] for f in missing if f["check"] == "remote key"] == [False]
    down = check_remote(RemoteOptions(base_url=f"http://127.0.0.1:{remote_asr.free_port()}/v1", api_key_env=""))
    assert [f["check"] for f in down if not f["ok"]] == ["remote engine"]


def test_switching_engine_at_run_time_goes_local_without_a_request(faulty, tiny_en, speech_dir):
    server = faulty("ok")
    use = {"remote": True}
    choice = EngineChoice(lambda: use["remote"], lambda: None)
    wrapper = FallbackTranscriber(remote(server.base_url), tiny_en, choice)
    assert wrapper.transcribe(read_pcm(speech_dir / "s0.wav"))[0].text == "Hello from the fake."
    use["remote"] = False
    assert wrapper.transcribe(read_pcm(speech_dir / "s0.wav")) and wrapper.last_engine == "local"
    assert len(server.requests) == 1 and wrapper.choice.last_fallback == ""


def test_what_goes_on_the_wire(faulty):
    import email.parser
    import email.policy

    def form(request) -> dict[str, bytes]:
        head = f"Content-Type: {request['headers']['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request["body"])
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()}

    server = faulty("ok")
    pcm = b"\1\0" * 16000
    remote(server.base_url, model="whisper-large-v3").transcribe(pcm, DecodeRequest("So far, a prompt.", 5, 10,
                                                                                    language="de"))
    sent = form(server.requests[-1])
    assert server.requests[-1]["path"] == "/v1/audio/transcriptions"
    assert {k: v for k, v in sent.items() if k != "file"} == {
        "model": b"whisper-large-v3", "response_format": b"json", "temperature": b"0", "language": b"de",
        "prompt": b"So far, a prompt."}  # beam and window are the local engine's: not sent
    assert sent["file"][:4] == b"RIFF" and sent["file"].endswith(pcm)
    remote(server.base_url, task="translate", language="auto").transcribe(pcm, DecodeRequest())
    assert server.requests[-1]["path"] == "/v1/audio/translations" and "language" not in form(server.requests[-1])
