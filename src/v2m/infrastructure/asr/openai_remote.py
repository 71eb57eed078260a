"""A remote transcription engine over the OpenAI audio API.

OpenAI, Groq, faster-whisper-server, speaches, LocalAI and `v2m serve` all
answer POST {base_url}/audio/transcriptions (and /audio/translations) with a
multipart form: file, model, language, prompt, response_format. Standard
library only: the form is encoded here and sent by http_post, which bounds
the whole request by one deadline, caps the reply and follows no redirect
to another origin.

The dictation posts each committed utterance as a 16 kHz WAV while the user
talks, with the text so far as prompt, so the stop waits for one short
upload. Beam and encoder window are the local engine's business, and a
reading with context (DecodeRequest.before) is answered None: the session
then asks again with that context's text in the prompt.

The API key is read from the environment variable named in the config at
each call; it goes only into the Authorization header, never into a log,
an error or a repr (a server that echoes it back is redacted).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import secrets
import time
import zlib
from typing import Any, Callable, Mapping

from v2m.domain.errors import ModelError
from v2m.domain.hallucination import SegmentScore
from v2m.domain.transcript import DecodeRequest
from v2m.infrastructure.audio.wav_encoding import wav_bytes
from v2m.infrastructure.system import http_post

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 8 * 2**20  # a verbose_json of a 10 min chunk is a few hundred KiB


@dataclasses.dataclass(frozen=True)
class RemoteOptions:
    base_url: str = "https://api.openai.com/v1"
    model: str = "whisper-1"
    api_key_env: str = "OPENAI_API_KEY"  # the variable's NAME; "" sends no key
    timeout_s: float = 10.0              # one utterance: connect, upload, answer
    file_timeout_s: float = 300.0        # one chunk of a file
    language: str = "en"                 # "auto": the server detects it
    task: str = "transcribe"             # or "translate" (to English)


class RemoteEngineError(ModelError):
    """The remote engine failed, timed out or answered something unusable."""


class OpenAiAudioClient:
    """One POST of audio to an OpenAI-compatible audio endpoint."""

    def __init__(self, options: RemoteOptions | Callable[[], RemoteOptions],
                 environ: Mapping[str, str] = os.environ) -> None:
        self._options = options if callable(options) else (lambda: options)
        self._environ = environ

    @property
    def options(self) -> RemoteOptions:
        return self._options()

    @property
    def name(self) -> str:
        o = self._options()
        return f"{o.model} at {o.base_url.rstrip('/')}"

    def __repr__(self) -> str:
        return f"OpenAiAudioClient({self.name!r}, api_key_env={self._options().api_key_env!r})"

    def api_key(self) -> str:
        name = self._options().api_key_env
        if not name:
            return ""
        key = self._environ.get(name, "").strip()
        if not key:
            raise RemoteEngineError(
                f"the environment variable {name} named by [transcription.remote] api_key_env is not set",
                "set it in the daemon's environment (`systemctl --user set-environment`), "
                "or api_key_env = \"\" for a server without keys")
        return key

    def post_audio(self, audio: bytes, filename: str, content_type: str, fields: Mapping[str, Any],
                   timeout_s: float, translate: bool = False) -> dict[str, Any]:
        """POST the audio with `fields`; the reply's JSON object. Raises RemoteEngineError."""
        o = self._options()
        key = self.api_key()
        url = f"{o.base_url.rstrip('/')}/audio/{'translations' if translate else 'transcriptions'}"
        body, ctype = multipart(fields, ("file", filename, content_type, audio))
        headers = {"Content-Type": ctype, "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        started, status = time.monotonic(), "-"
        try:
            reply = http_post.post(url, body, headers, http_post.PostLimits(timeout_s, MAX_REPLY_BYTES))
            status = str(reply.status)
        except http_post.HttpFailure as exc:
            status = type(exc).__name__
            raise self._failure(exc, key, timeout_s) from None
        finally:
            log.debug("remote ASR POST %s model=%s %d bytes status=%s in %.0f ms", url, o.model, len(audio),
                      status, (time.monotonic() - started) * 1000)
        if not 200 <= reply.status < 300:
            excerpt = http_post.error_excerpt(reply.body, key)
            raise RemoteEngineError(f"remote engine {self.name} answered HTTP {reply.status}"
                                    + (f": {excerpt}" if excerpt else ""), _hint(reply.status, o.api_key_env))
        try:  # RecursionError: "[[[[..." nested deeper than the parser goes
            data = json.loads(reply.body)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise RemoteEngineError(f"remote engine {self.name} sent a reply that is not a transcription",
                                    "is [transcription.remote] base_url an OpenAI-compatible /v1 endpoint?")
        return data

    def _failure(self, exc: http_post.HttpFailure, key: str, timeout_s: float) -> RemoteEngineError:
        where = self._options().base_url
        if isinstance(exc, http_post.DeadlineExceeded):
            return RemoteEngineError(f"remote engine at {where} did not answer within {timeout_s:g} s",
                                     "raise [transcription.remote] timeout_s, or check the server")
        if isinstance(exc, http_post.RedirectRefused):
            return RemoteEngineError(f"remote engine at {where} redirected (HTTP {exc.status}); v2m does "
                                     "not follow it with your audio", "set base_url to the final URL")
        reason = exc.reason if isinstance(exc, http_post.TransportFailed) else exc
        said = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        return RemoteEngineError(f"cannot reach remote engine at {where}: {http_post.redact(said, key)}",
                                 "start the server, or fix [transcription.remote] base_url")


class OpenAiRemoteTranscriber:
    """The Transcriber port over the remote engine: one POST per pass."""

    def __init__(self, client: OpenAiAudioClient) -> None:
        self._client = client

    @property
    def model_name(self) -> str:
        return self._client.name

    def load(self) -> None:
        """Nothing to load here; the key is checked at each pass."""

    def transcribe(self, pcm: bytes, request: DecodeRequest = DecodeRequest()) -> list[SegmentScore] | None:
        if request.before is not None:
            return None  # no forced prefix over this API: the session asks again with a prompt
        o = self._client.options
        fields = request_fields(o, request.language, request.prompt, "json")
        reply = self._client.post_audio(wav_bytes(pcm), "utterance.wav", "audio/wav", fields, o.timeout_s,
                                        translate=o.task == "translate")
        text = reply["text"].strip()
        # The json format has no scores: the VAD already chose this audio, and
        # the gate still drops empty, looping and stock-phrase output.
        return [SegmentScore(text, 0.0, 0.0, compression_ratio(text))] if text else []


def request_fields(o: RemoteOptions, language: str | None, prompt: str, response_format: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"model": o.model, "response_format": response_format, "temperature": "0"}
    language = language or o.language
    if o.task != "translate" and language and language != "auto":
        fields["language"] = language
    if prompt.strip():
        fields["prompt"] = prompt.strip()
    return fields


def multipart(fields: Mapping[str, Any], file: tuple[str, str, str, bytes]) -> tuple[bytes, str]:
    """multipart/form-data: text fields (a list repeats its name), then the file."""
    name, filename, content_type, data = file
    values = [(k, str(v)) for k, vs in fields.items() for v in (vs if isinstance(vs, (list, tuple)) else [vs])]
    boundary = "v2m-" + secrets.token_hex(16)
    while any(boundary in v for _, v in values) or boundary.encode() in data:
        boundary = "v2m-" + secrets.token_hex(16)
    out = io.BytesIO()
    for key, value in values:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(key)}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"; '
              f'filename="{_quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'.encode())
    out.write(data + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def compression_ratio(text: str) -> float:
    """Whisper's looping measure: the text's size over its zlib size."""
    raw = text.encode()
    return len(raw) / len(zlib.compress(raw)) if raw else 1.0


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _hint(status: int, api_key_env: str) -> str:
    if status in (401, 403):
        return f"check the API key in ${api_key_env}" if api_key_env else "the server wants a key: set api_key_env"
    if status == 404:
        return "check [transcription.remote] base_url (it usually ends in /v1) and model"
    if status == 429:
        return "the server is rate-limiting; the local model is used meanwhile"
    return "see the server's log" if status >= 500 else "check [transcription.remote] model and language"

