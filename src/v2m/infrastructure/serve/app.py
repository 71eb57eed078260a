"""The OpenAI-compatible HTTP app (Starlette): routes, the guard, uploads.

POST /v1/audio/transcriptions and /v1/audio/translations (multipart: file,
model, language, prompt, temperature, response_format, timestamp_granularities[]),
GET /v1/models, GET /health. The app knows nothing of the daemon: it is
given plain callables, `transcribe(path, SpeechRequest, check) -> result dict`
(see formats.py; `check()` raises when a dictation preempts the request)
and `busy() -> bool` (via Admission), and `model_name() -> str`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import tempfile
import time
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from v2m.domain.errors import MediaError, V2mError
from v2m.domain.languages import parse_language
from v2m.infrastructure.serve import formats
from v2m.infrastructure.serve.admission import Admission, Unavailable
from v2m.infrastructure.serve.guard import ServeOptions, allowed_hosts, refusal

log = logging.getLogger(__name__)
COPY_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class SpeechRequest:
    task: str = "transcribe"            # or "translate"
    language: str | None = None         # None: the daemon's setting
    prompt: str = ""
    temperature: float | None = None    # accepted; Whisper's own fallback schedule is used
    words: bool = False                 # word timestamps wanted


class BodyTooLarge(Exception):
    pass


def build_app(options: ServeOptions, token: str | None, transcribe: Callable[..., dict[str, Any]],
              admission: Admission, model_name: Callable[[], str]) -> Any:
    async def speech(request: Request) -> Response:
        return await _speech(request, options, transcribe, admission)

    async def models(_request: Request) -> Response:
        now = int(time.time())
        ids = dict.fromkeys([model_name(), "whisper-1"])  # clients that hard-code whisper-1 work too
        data = [{"id": i, "object": "model", "created": now, "owned_by": "v2m"} for i in ids]
        return _json({"object": "list", "data": data})

    async def health(_request: Request) -> Response:
        return _json({"status": "ok", "model": model_name(), **admission.status()})

    app = Starlette(routes=[
        Route("/v1/audio/transcriptions", speech, methods=["POST"], name="transcribe"),
        Route("/v1/audio/translations", speech, methods=["POST"], name="translate"),
        Route("/v1/models", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ])
    inner = CORSMiddleware(app, allow_origins=list(options.allowed_origins), allow_methods=["GET", "POST"],
                           allow_headers=["authorization", "content-type"]) if options.allowed_origins else app
    return Guard(inner, options, token)


class Guard:
    """ASGI middleware: Host, Origin and token checks, and the upload bound (413)."""

    def __init__(self, app: Any, options: ServeOptions, token: str | None) -> None:
        self.app, self.options, self.token = app, options, token
        self.hosts = allowed_hosts(options)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            headers[key] = (headers[key] + "," if key in headers else "") + value.decode("latin-1")
        problem = refusal(headers, scope["path"], self.options, self.hosts, self.token)
        if problem is None and _declared_length(headers) > self.options.max_upload_bytes:
            problem = (413, "file_too_large", _too_large(self.options))
        if problem is not None:
            status, code, message = problem
            extra = {"www-authenticate": "Bearer"} if status == 401 else {}
            await _json(formats.error(message, code=code), status, extra)(scope, receive, send)
            return
        limit, seen = self.options.max_upload_bytes, 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
            return message
        await self.app(scope, counted, send)


async def _speech(request: Request, options: ServeOptions, transcribe: Callable[..., dict[str, Any]],
                  admission: Admission) -> Response:
    task = "translate" if request.url.path.endswith("/translations") else "transcribe"
    try:
        admission.enter()  # before the upload is read: a full queue costs the client nothing
    except Unavailable as exc:
        return _unavailable(exc)
    path = None
    try:
        try:
            form = await request.form(max_files=1, max_fields=16)
        except BodyTooLarge:
            return _json(formats.error(_too_large(options), code="file_too_large"), 413)
        except Exception as exc:  # Starlette's MultiPartException, or a body that is no form
            return _bad(f"the body is not a multipart form: {getattr(exc, 'detail', exc)}")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _bad("no file: send the audio in the multipart field `file`", "file")
        fmt = str(form.get("response_format") or "json")
        if fmt not in formats.FORMATS:
            return _bad(f"response_format {fmt[:40]!r} is not one of {', '.join(formats.FORMATS)}",
                        "response_format")
        granularities = tuple(str(g) for g in form.getlist("timestamp_granularities[]")
                              + form.getlist("timestamp_granularities"))
        if any(g not in formats.GRANULARITIES for g in granularities):
            return _bad("timestamp_granularities[] takes segment and word", "timestamp_granularities[]")
        try:
            temperature = float(form["temperature"]) if form.get("temperature") else None
        except ValueError:
            return _bad("temperature is not a number", "temperature")
        language = str(form.get("language") or "").strip().lower()
        try:
            language = parse_language(language)[0] if language not in ("", "auto") else None
        except ValueError as exc:
            return _bad(str(exc), "language")
        speech = SpeechRequest(task, None if task == "translate" else language, str(form.get("prompt") or ""),
                               temperature, "word" in granularities and fmt == "verbose_json")
        path = await _save(upload)
        result = await asyncio.to_thread(admission.run, lambda check: transcribe(path, speech, check))
        data, media_type = formats.body(result, fmt, task, granularities)
        return Response(data, media_type=media_type)
    except Unavailable as exc:
        return _unavailable(exc)
    except MediaError as exc:  # about our temporary copy: named as the client named it
        return _bad(exc.message.replace(path or "", repr(upload.filename or "file")), "file")
    except V2mError as exc:
        log.warning("server request failed: %s", exc)
        return _json(formats.error(str(exc), "server_error"), 500)
    except Exception:
        log.exception("server request failed")
        return _json(formats.error("internal error; see the daemon's log", "server_error"), 500)
    finally:
        admission.leave()
        if path:
            os.unlink(path)


async def _save(upload: UploadFile) -> str:
    """The upload in a private temporary file (the transcriber reads paths)."""
    fd, path = tempfile.mkstemp(prefix="v2m-serve-", suffix=os.path.splitext(upload.filename or "")[1][:16])
    with os.fdopen(fd, "wb") as out:
        while chunk := await upload.read(COPY_BYTES):
            out.write(chunk)
    await upload.close()
    return path


def _declared_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _too_large(options: ServeOptions) -> str:
    return (f"the upload is larger than {options.max_upload_mb:g} MB ([server] max_upload_mb); "
            "send a compressed file (FLAC, Opus, MP3) or a shorter one")


def _unavailable(exc: Unavailable) -> Response:
    return _json(formats.error(str(exc), "server_error", "overloaded"), 503,
                 {"retry-after": str(exc.retry_after_s)})


def _bad(message: str, param: str | None = None) -> Response:
    return _json(formats.error(message, param=param), 400)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return Response(raw, status, headers, media_type="application/json")
