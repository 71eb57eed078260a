"""Remote ASR servers for tests: a real third-party one, and a faulty one.

- FasterWhisperServer: the PyPI package `faster-whisper-server` (FastAPI +
  uvicorn, by andyjjrt; nobody here wrote it), run as a subprocess on
  loopback with the bundled tiny.en. It reads the model from its form field
  `model_name` (default "whisper-1"), so the config names the model
  "whisper-1"; it has no GET /v1/models (404).
- FaultyServer: a stdlib HTTP server that answers as told: "500", "html"
  (200, not JSON), "hang" (never answers), "redirect" (to another origin),
  "echo" (a 500 whose body repeats the request's Authorization header).
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    try:
        import faster_whisper_server  # noqa: F401  (only whether it is there)
    except ImportError:
        return False
    return True


class FasterWhisperServer:
    def __init__(self, model_dir: Path, workdir: Path, port: int | None = None, threads: int = 2) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.config = workdir / "fws.yaml"
        self.config.write_text(
            "models:\n  - name: whisper-1\n"
            f"    path: {model_dir}\n"
            f"    model_options: {{device: cpu, compute_type: int8, cpu_threads: {threads}}}\n")
        self.log_path = workdir / "fws.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60) -> "FasterWhisperServer":
        log = open(self.log_path, "ab")
        code = "from faster_whisper_server.cli import main; main()"
        self.proc = subprocess.Popen([sys.executable, "-c", code, "--config", str(self.config),
                                      "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"faster-whisper-server did not start: {self.log()}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class FaultyServer:
    def __init__(self, mode: str = "500") -> None:
        self.mode = mode
        self.requests: list[dict] = []
        self._release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                outer.answer(self)

            do_GET = do_POST

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, h: http.server.BaseHTTPRequestHandler) -> None:
        if self.mode == "hang":
            self._release.wait(60)
            return
        status, headers, body = {
            "500": (500, {}, b'{"error": {"message": "model crashed"}}'),
            "html": (200, {"Content-Type": "text/html"}, b"<html>captive portal</html>"),
            "redirect": (307, {"Location": "http://127.0.0.2:9/v1/audio/transcriptions"}, b""),
            "echo": (500, {}, ('{"error": {"message": "bad key %s"}}'
                               % h.headers.get("Authorization", "")).encode()),
            "ok": (200, {"Content-Type": "application/json"}, b'{"text": " Hello from the fake."}'),
        }[self.mode]
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def start(self) -> "FaultyServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
