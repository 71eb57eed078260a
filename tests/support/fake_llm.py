"""A local OpenAI-compatible chat server, for tests of LLM refinement.

A real HTTP server (127.0.0.1, a free port, its own thread) answering
POST /v1/chat/completions the way Ollama or OpenAI do:

    with FakeLlm(mode="echo-fix") as llm:
        llm.base_url            # "http://127.0.0.1:PORT/v1": put it in [llm] base_url
        llm.mode = "500"        # change behaviour at any time, even mid-test
        llm.count               # requests received (any path)
        llm.requests[-1].headers["Authorization"], llm.requests[-1].body["messages"]

Modes (what the assistant answers, given the last user message):

- "echo-fix": the user text with its first letter capitalised and a full
  stop added if it has no final punctuation (stays within refine's bounds).
- "fixed:TEXT": TEXT, verbatim (may contain <think>...</think>).
- "slow": sleeps `slow_s` (default 3 s, longer than a test client's
  timeout), then answers like "echo-fix".
- "empty": an empty content string.
- "long": the user text three times, separated by spaces.
- "500", "400", "429", any HTTP status: that status with an OpenAI-style
  JSON error body.
- "garbage": 200 with a body that is not a chat completion.

`redirects` maps a request target (path with query, exactly as received) to
(status, Location): `llm.redirects["/v1/chat/completions"] = (307, url)`.
Routing ignores the query and the scheme://host of an absolute target, so the
server also stands in for a plain HTTP proxy. Other paths answer 404. Works from another process too (a daemon under test
pointed at base_url), as long as this one keeps running.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or the raw text if it was not JSON
    raw: bytes = field(repr=False, default=b"")


def echo_fix(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


class FakeLlm:
    def __init__(self, mode: str = "echo-fix", slow_s: float = 3.0) -> None:
        self.mode = mode
        self.slow_s = slow_s
        self.requests: list[RecordedRequest] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the FakeLlm first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeLlm":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick (shutdown waits for one poll).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes "slow" handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeLlm":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def answer(self, user: str) -> tuple[int, Any]:
        """(HTTP status, JSON body) for the current mode."""
        mode = self.mode
        if mode.isdigit():
            return int(mode), {"error": {"message": f"fake failure {mode}", "type": "server_error"}}
        if mode == "garbage":
            return 200, {"hello": "world"}
        if mode == "slow":
            self._stopping.wait(self.slow_s)
        if mode.startswith("fixed:"):
            content = mode[len("fixed:"):]
        elif mode == "empty":
            content = ""
        elif mode == "long":
            content = " ".join([user.strip()] * 3)
        else:
            content = echo_fix(user)
        return 200, _completion(content)


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _last_user_text(body: Any) -> str:
    try:
        users = [m["content"] for m in body["messages"] if m.get("role") == "user"]
        return users[-1] if users else ""
    except (TypeError, KeyError, AttributeError):
        return ""


def _handler_for(fake: FakeLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            fake.record(RecordedRequest(self.path, dict(self.headers.items()), body, raw))
            if self.path in fake.redirects:
                status, location = fake.redirects[self.path]
                return self._send(status, {"error": {"message": "moved"}}, {"Location": location})
            if urlsplit(self.path).path != CHAT_PATH:
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            if not isinstance(body, dict):
                return self._send(400, {"error": {"message": "body is not JSON"}})
            self._send(*fake.answer(_last_user_text(body)))

        def do_GET(self) -> None:
            fake.record(RecordedRequest(self.path, dict(self.headers.items()), None))
            self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): expected in "slow" mode

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
