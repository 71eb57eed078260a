"""`v2m serve` (in-process, on a real WhisperFileTranscriber with tiny.en)
against the official `openai` Python package, and raw HTTP for the guards."""

from __future__ import annotations

import http.client
import json
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from tests.support.media import speech_wav
from tests.support.remote_asr import free_port
from tests.support.wer import wer
from tests.unit.test_subtitles import assert_monotonic, parse_srt, parse_vtt
from v2m.domain.errors import ConfigError
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.asr.openai_remote import RemoteOptions
from v2m.infrastructure.asr.openai_remote_check import check_remote
from v2m.infrastructure.models.model_locator import bundled_model
from v2m.infrastructure.serve import token as token_file
from v2m.infrastructure.serve.backend import local_transcribe
from v2m.infrastructure.serve.guard import ServeOptions, check_listen
from v2m.infrastructure.serve.runner import HttpServer, ServeError

import openai  # noqa: E402 - the test extra installs it
WER_BOUND = 0.25


@pytest.fixture(scope="module")
def tiny_en():
    transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
    transcriber.load()
    return transcriber


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    return speech_wav(tmp_path_factory.mktemp("talk") / "talk.wav")


@pytest.fixture
def serve(tiny_en, tmp_path):
    """start(**ServeOptions fields) -> (server, token); `busy` is the daemon's state."""
    started, busy = [], {"now": False}
    token = token_file.read_or_create(tmp_path / "config" / "v2m" / "server-token")

    def start(transcribe=None, **fields):
        options = ServeOptions(listen=f"127.0.0.1:{free_port()}", **fields)
        server = HttpServer(options, token, transcribe or local_transcribe(tiny_en.whisper_model,
                                                                           lambda: tiny_en.options),
                            lambda: busy["now"], lambda: "tiny.en")
        server.start()
        started.append(server)
        return server
    start.busy, start.token = busy, token
    yield start
    for server in started:
        server.stop()


def client(server, key):
    return openai.OpenAI(base_url=server.url, api_key=key, max_retries=0, timeout=120)


def raw(server, method="POST", path="/v1/audio/transcriptions", body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request(method, path, body, headers or {})
    reply = conn.getresponse()
    data = reply.read()
    conn.close()
    return reply.status, dict(reply.getheaders()), data


def test_every_response_format_through_the_openai_package(serve, talk):
    server = serve()
    c, (wav, reference) = client(server, serve.token), talk
    create = lambda fmt, **kw: c.audio.transcriptions.create(model="whisper-1", file=wav.open("rb"),  # noqa: E731
                                                             response_format=fmt, **kw)
    assert wer(reference, create("json").text) <= WER_BOUND
    text = create("text", language="en", prompt="Quarterly report.")
    assert isinstance(text, str) and text.endswith("\n") and wer(reference, text) <= WER_BOUND
    srt, vtt = parse_srt(create("srt")), parse_vtt(create("vtt"))
    assert len(srt) >= 3 and [i for i, *_ in srt] == list(range(1, len(srt) + 1))
    assert_monotonic([(s, e) for _, s, e, _ in srt], 20.0) and assert_monotonic([(s, e) for s, e, _ in vtt], 20.0)
    verbose = create("verbose_json")
    assert verbose.language == "english" and verbose.duration > 10 and verbose.segments
    assert wer(reference, " ".join(s.text for s in verbose.segments)) <= WER_BOUND
    assert all(-1.0 < s.avg_logprob <= 0 and s.no_speech_prob < 0.5 for s in verbose.segments)


def test_word_timestamps(serve, talk):
    server = serve()
    wav, reference = talk
    result = client(server, serve.token).audio.transcriptions.create(
        model="whisper-1", file=wav.open("rb"), response_format="verbose_json",
        timestamp_granularities=["word", "segment"])
    words = result.words
    assert wer(reference, " ".join(w.word for w in words)) <= WER_BOUND
    assert all(0 <= w.start <= w.end <= result.duration for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words) and result.segments
    only_words = client(server, serve.token).audio.transcriptions.create(
        model="whisper-1", file=wav.open("rb"), response_format="verbose_json", timestamp_granularities=["word"])
    assert only_words.words and not only_words.segments


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # openai marks translations so
def test_translation_endpoint(serve, talk):
    server = serve()
    wav, reference = talk
    result = client(server, serve.token).audio.translations.create(model="whisper-1", file=wav.open("rb"))
    assert wer(reference, result.text) <= WER_BOUND  # an English-only model: English stays English


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_translation_of_german_on_the_multilingual_model(tmp_path):
    from tests.support import multilingual
    from tests.support.speech import say

    if not multilingual.available():
        pytest.fail("needs " + " and ".join(multilingual.PACKAGES) + " (the test extra)")
    base = FasterWhisperTranscriber("base", multilingual.base_model_path(),
                                    WhisperOptions(cpu_threads=2, language="auto"))
    base.load()
    # Two sentences: on one short one, base took espeak's German for English.
    wav = say("Ich möchte heute Abend mit meiner Familie ins Kino gehen. Das Wetter ist sehr schön.",
              tmp_path / "de.wav", voice="de", words_per_min=150)
    token = token_file.read_or_create(tmp_path / "server-token")
    server = HttpServer(ServeOptions(listen=f"127.0.0.1:{free_port()}"), token,
                        local_transcribe(base.whisper_model, lambda: base.options), lambda: False, lambda: "base")
    server.start()
    try:
        c = client(server, token)
        heard = c.audio.transcriptions.create(model="base", file=wav.open("rb"), language="de",
                                              response_format="verbose_json")
        said = c.audio.translations.create(model="base", file=wav.open("rb"), response_format="verbose_json")
    finally:
        server.stop()
    assert heard.language == "german" and "familie" in heard.text.lower()
    assert said.language == "german" and "family" in said.text.lower() and "familie" not in said.text.lower()


def test_bad_fields_are_400_in_openai_shape(serve, talk):
    server = serve()
    c = client(server, serve.token)
    for kwargs, param in [({"language": "klingonish"}, "language"), ({"response_format": "docx"}, "response_format"),
                          ({"timestamp_granularities": ["phoneme"]}, "timestamp_granularities[]")]:
        with pytest.raises(openai.BadRequestError) as caught:
            c.audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb"), **kwargs)
        assert caught.value.body["param"] == param, caught.value.body
    with pytest.raises(openai.BadRequestError, match="'notes.txt' is not an audio or video file"):
        c.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"just some text, not audio"))


def test_a_missing_or_wrong_token_is_401(serve):
    server = serve()
    status, headers, body = raw(server, "GET", "/v1/models", headers={"Host": f"127.0.0.1:{server.port}"})
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert "v2m serve token" in json.loads(body)["error"]["message"]
    with pytest.raises(openai.AuthenticationError):
        client(server, "not-the-token").models.list()
    ids = [m.id for m in client(server, serve.token).models.list()]
    assert ids == ["tiny.en", "whisper-1"]
    assert raw(server, "GET", "/health")[0] == 200  # health needs no token


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}", ""])
def test_a_foreign_host_header_is_refused(serve, host):
    server = serve()
    status, _, body = raw(server, "GET", "/v1/models", headers={
        "Host": host.format(port=server.port), "Authorization": f"Bearer {serve.token}"})
    assert status == 400 and "DNS rebinding" in json.loads(body)["error"]["message"]
    for ours in (f"localhost:{server.port}", f"127.0.0.1:{server.port}"):
        assert raw(server, "GET", "/v1/models", headers={"Host": ours,
                                                          "Authorization": f"Bearer {serve.token}"})[0] == 200


def test_a_browser_origin_is_refused_unless_allowed(serve):
    server = serve(allowed_origins=("http://localhost:3000",))
    auth = {"Authorization": f"Bearer {serve.token}", "Host": f"127.0.0.1:{server.port}"}
    status, _, body = raw(server, "GET", "/v1/models", headers={**auth, "Origin": "https://evil.example"})
    assert status == 403 and "allowed_origins" in json.loads(body)["error"]["message"]
    status, headers, _ = raw(server, "GET", "/v1/models", headers={**auth, "Origin": "http://localhost:3000"})
    assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"


def test_an_oversized_upload_is_413_with_a_clear_message(serve, talk):
    server = serve(max_upload_mb=0.2)  # the talk is about 0.6 MB
    with pytest.raises(openai.APIStatusError) as caught:
        client(server, serve.token).audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb"))
    assert caught.value.status_code == 413 and "larger than 0.2 MB" in caught.value.message
    # Chunked, without a Content-Length: cut off while it streams in.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/v1/audio/transcriptions")
    for name, value in {"Authorization": f"Bearer {serve.token}", "Transfer-Encoding": "chunked",
                        "Content-Type": "multipart/form-data; boundary=x"}.items():
        conn.putheader(name, value)
    conn.endheaders()
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    try:
        for piece in [head] + [b"\0" * 65536] * 6:
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed
    reply = conn.getresponse()
    assert reply.status == 413 and b"max_upload_mb" in reply.read()


def test_dictation_goes_first_and_a_full_queue_is_503(serve, talk):
    server = serve(max_queue=0, queue_timeout_s=20)
    serve.busy["now"] = True  # the user is dictating
    c = client(server, serve.token)
    first: dict = {}
    waiting = threading.Thread(target=lambda: first.update(
        text=c.audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb")).text))
    waiting.start()
    deadline = time.monotonic() + 10
    while server.status()["inside"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(openai.APIStatusError) as caught:  # one waits: the queue (0 more) is full
        c.audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb"))
    assert caught.value.status_code == 503 and int(caught.value.response.headers["retry-after"]) >= 1
    time.sleep(0.5)
    assert "text" not in first  # still waiting for the dictation to end
    serve.busy["now"] = False
    waiting.join(60)
    assert wer(talk[1], first["text"]) <= WER_BOUND
    assert server.status()["full"] == 1 and server.status()["served"] == 1


def test_a_dictation_that_starts_preempts_the_request(serve, tiny_en, talk):
    real = local_transcribe(tiny_en.whisper_model, lambda: tiny_en.options)

    def transcribe(path, request, check):
        serve.busy["now"] = True  # the user presses the key as the request starts
        return real(path, request, check)
    server = serve(transcribe, queue_timeout_s=0.5)
    with pytest.raises(openai.APIStatusError) as caught:
        client(server, serve.token).audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb"))
    assert caught.value.status_code == 503 and "dictation" in caught.value.message
    assert caught.value.response.headers["retry-after"] == "5"
    with pytest.raises(openai.APIStatusError) as caught:  # still dictating: it waits, then gives up
        client(server, serve.token).audio.transcriptions.create(model="whisper-1", file=talk[0].open("rb"))
    assert caught.value.status_code == 503 and server.status()["timed_out"] == 1


def test_the_doctor_check_finds_the_model_on_v2m_serve(serve, monkeypatch):
    server = serve()
    monkeypatch.setenv("V2M_TEST_SERVE_KEY", serve.token)
    options = RemoteOptions(base_url=server.url, model="tiny.en", api_key_env="V2M_TEST_SERVE_KEY")
    assert all(f["ok"] for f in check_remote(options))
    found = {f["check"]: f for f in check_remote(RemoteOptions(base_url=server.url, model="large",
                                                               api_key_env="V2M_TEST_SERVE_KEY"))}
    assert not found["remote model"]["ok"] and "tiny.en" in found["remote model"]["detail"]
    monkeypatch.setenv("V2M_TEST_SERVE_KEY", "wrong")
    assert "refused the key" in {f["check"]: f for f in check_remote(options)}["remote engine"]["detail"]


def test_token_file_is_private_made_once_and_never_through_a_symlink(tmp_path):
    path = tmp_path / "v2m" / "server-token"
    token = token_file.read_or_create(path)
    assert len(token) >= 40 and token_file.read_or_create(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and os.listdir(path.parent) == ["server-token"]
    path.chmod(0o644)
    with pytest.raises(token_file.TokenFileError, match="not a private file"):
        token_file.read_or_create(path)
    path.unlink()
    target = tmp_path / "elsewhere"
    path.symlink_to(target)
    with pytest.raises(token_file.TokenFileError):
        token_file.read_or_create(path)
    assert not target.exists()


def test_listen_rules_and_a_taken_port(serve):
    with pytest.raises(ConfigError, match="auth is off"):
        check_listen(ServeOptions(listen="0.0.0.0:8765", auth=False))
    with pytest.raises(ConfigError, match="HOST:PORT"):
        check_listen(ServeOptions(listen="8765"))
    assert check_listen(ServeOptions(listen="[::1]:8765")) == ("::1", 8765)
    server = serve()
    with pytest.raises(ServeError, match="cannot listen"):
        HttpServer(ServeOptions(listen=f"127.0.0.1:{server.port}"), "t", lambda *a: {}, lambda: False,
                   lambda: "m").start()


def test_the_token_command_path_imports_no_http_framework():
    code = ("import sys, v2m.infrastructure.serve.token, v2m.infrastructure.serve.guard;"
            "bad = [m for m in ('starlette', 'uvicorn', 'multipart', 'anyio') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
