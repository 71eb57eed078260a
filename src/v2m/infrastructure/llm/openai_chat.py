"""ChatModel over an OpenAI-compatible /chat/completions endpoint.

Ollama, llama.cpp's server, vLLM, LM Studio, OpenAI and Gemini's OpenAI
endpoint all speak it. Standard library only: one small JSON POST does not
need an HTTP client dependency in the daemon.

The API key is read from the environment at call time (so a key set with
`systemctl --user set-environment` works without a restart) and goes only
into the Authorization header: never into logs, errors or reprs, and never
to another origin (http_post refuses cross-origin redirects).

Time: each attempt ends within timeout_s, however slowly the server sends
(http_post's total deadline); timeouts, connection errors, 5xx and 429 are
retried, so a call takes at most (retries + 1) * timeout_s plus the backoff.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import time
from typing import Any, Mapping
from urllib.parse import urlsplit

from v2m.domain.errors import LlmError
from v2m.domain.refinement import clean_completion
from v2m.infrastructure.system import http_post
from v2m.infrastructure.system.http_post import (DeadlineExceeded, PostLimits, RedirectRefused, ReplyTooLarge,
                                          TransportFailed)

log = logging.getLogger(__name__)

BACKOFF_S = (0.3, 0.6, 1.2, 2.4)
# A chat completion is a few KiB; a reply past this is not one, and is not read.
MAX_REPLY_BYTES = 4 * 2**20


class _Failure(Exception):
    """One failed attempt: the error to report and whether another try may help."""

    def __init__(self, error: LlmError, retryable: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable


class OpenAiChatModel:
    def __init__(self, base_url: str, model: str, api_key_env: str = "", timeout_s: float = 15.0,
                 retries: int = 1, environ: Mapping[str, str] = os.environ) -> None:
        self._base_url = base_url.rstrip("/")
        self._url = f"{self._base_url}/chat/completions"
        self._model = model
        self._api_key_env = api_key_env
        self._timeout_s = timeout_s
        self._retries = max(0, retries)
        self._environ = environ
        self._limits = PostLimits(timeout_s=timeout_s, max_reply_bytes=MAX_REPLY_BYTES)

    @property
    def name(self) -> str:
        return f"{self._model} at {self._base_url}"

    def __repr__(self) -> str:
        return f"OpenAiChatModel({self.name!r}, api_key_env={self._api_key_env!r})"

    def complete(self, system: str, user: str) -> str:
        key = self._api_key()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = json.dumps({
            "model": self._model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "stream": False,
        }).encode()
        reply = self._post_with_retries(body, headers, key)
        text = clean_completion(self._content(reply), user)
        if not text:
            raise LlmError(f"LLM {self.name} gave an empty answer",
                           "try another [llm] model, or check your prompt files")
        return text

    def _api_key(self) -> str:
        if not self._api_key_env:
            return ""
        key = self._environ.get(self._api_key_env, "").strip()
        if not key:
            raise LlmError(
                f"the environment variable {self._api_key_env} named by [llm] api_key_env is not set",
                "set it in the daemon's environment (e.g. `systemctl --user set-environment`), "
                "or set [llm] api_key_env = \"\" for a local server")
        return key

    def _post_with_retries(self, body: bytes, headers: dict[str, str], key: str) -> bytes:
        for attempt in range(self._retries + 1):
            try:
                return self._post(body, headers, key)
            except _Failure as failure:
                if not failure.retryable or attempt == self._retries:
                    raise failure.error from None
                log.debug("LLM %s attempt %d failed (%s); retrying", self._url, attempt + 1,
                          failure.error.message)
                time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
        raise AssertionError("unreachable")

    def _post(self, body: bytes, headers: dict[str, str], key: str) -> bytes:
        started = time.monotonic()
        status: int | str = "-"
        try:
            reply = http_post.post(self._url, body, headers, self._limits)
            status = reply.status
        except http_post.HttpFailure as exc:
            status = type(exc).__name__
            raise self._transport_failure(exc, key) from None
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000
            log.debug("LLM POST %s model=%s status=%s in %.0f ms", self._url, self._model, status, elapsed_ms)
        if 200 <= reply.status < 300:
            return reply.body
        raise self._http_failure(reply.status, reply.body, key)

    def _transport_failure(self, exc: http_post.HttpFailure, key: str) -> _Failure:
        if isinstance(exc, DeadlineExceeded):
            return _Failure(LlmError(
                f"LLM at {self._base_url} did not answer within {self._timeout_s:g} s",
                "is the model loaded? A slow model needs a larger [llm] timeout_s"), retryable=True)
        if isinstance(exc, ReplyTooLarge):
            return _Failure(LlmError(
                f"LLM at {self._base_url} sent a reply larger than {exc.limit_bytes / 2**20:g} MiB, "
                "far more than a chat completion; it was not read",
                "is [llm] base_url an OpenAI-compatible endpoint (usually ending in /v1)?"), retryable=False)
        if isinstance(exc, RedirectRefused):
            return _Failure(self._redirect_error(exc, key), retryable=False)
        reason = exc.reason if isinstance(exc, TransportFailed) else exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            return _Failure(LlmError(f"LLM at {self._base_url} has an untrusted TLS certificate: "
                                     f"{reason.verify_message}", "check [llm] base_url"), retryable=False)
        return _Failure(LlmError(
            f"cannot reach LLM at {self._base_url}: {http_post.redact(_describe(reason), key)}",
            "start the server (e.g. `ollama serve`) or fix [llm] base_url"),
            retryable=not isinstance(reason, ValueError))  # a bad URL or header stays bad

    def _redirect_error(self, exc: RedirectRefused, key: str) -> LlmError:
        parts = urlsplit(exc.location)
        where = http_post.redact(parts._replace(query="", fragment="").geturl(), key)[:http_post.EXCERPT_CHARS]
        said = f"LLM at {self._base_url} redirected (HTTP {exc.status}) to {where}"
        if exc.cross_origin:
            return LlmError(f"{said}, another origin: v2m does not send credentials or your text to "
                            "another origin than [llm] base_url",
                            "if that server is the right one, set [llm] base_url to the URL it redirects to")
        if exc.too_many:
            return LlmError(f"{said}: too many redirects", "set [llm] base_url to the server's final URL")
        return LlmError(f"{said}, which would turn the POST into a GET and drop the request",
                        "set [llm] base_url to the URL it redirects to")

    def _http_failure(self, code: int, body: bytes, key: str) -> _Failure:
        excerpt = http_post.error_excerpt(body, key)
        if code in (401, 403):
            hint = (f"check the API key in ${self._api_key_env}" if self._api_key_env
                    else "the server wants an API key: set [llm] api_key_env")
        elif code == 404:
            hint = "check [llm] base_url (it usually ends in /v1) and that [llm] model is installed"
        elif code == 429:
            hint = "the server is rate-limiting; wait a moment and try again"
        elif code >= 500:
            hint = "see the LLM server's log"
        else:
            hint = "check [llm] model and base_url"
        message = f"LLM at {self._base_url} answered HTTP {code}" + (f": {excerpt}" if excerpt else "")
        return _Failure(LlmError(message, hint), retryable=code == 429 or code >= 500)

    def _content(self, reply: bytes) -> str:
        """choices[0].message.content, as a string."""
        try:  # RecursionError: "[[[[..." nested deeper than the parser goes
            content: Any = json.loads(reply)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError):
            raise LlmError(f"LLM at {self._base_url} sent a reply that is not a chat completion",
                           "is [llm] base_url an OpenAI-compatible endpoint (usually ending in /v1)?") from None
        if isinstance(content, list):  # content parts, as some providers send
            texts = (p.get("text") for p in content if isinstance(p, dict))
            content = "".join(t for t in texts if isinstance(t, str))
        return content if isinstance(content, str) else ""



def _describe(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror  # "Connection refused", without errno noise
    return str(reason) or type(reason).__name__
