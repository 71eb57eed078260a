"""Runs the app under uvicorn on its own thread and event loop, inside the daemon.

The socket is bound here first, so a taken port is a clear error at start
(uvicorn would call sys.exit on its thread). uvicorn adds no signal
handlers off the main thread and, with log_config=None, leaves the
daemon's logging alone; its access log is off (the URL is all it would
say, and nothing there is worth a line per request).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any, Callable

from v2m.domain.errors import V2mError
from v2m.infrastructure.serve.admission import Admission
from v2m.infrastructure.serve.app import build_app
from v2m.infrastructure.serve.guard import ServeOptions, check_listen

log = logging.getLogger(__name__)
START_TIMEOUT_S = 10.0


class ServeError(V2mError):
    """The server could not start."""


class HttpServer:
    """`v2m serve`: start() binds and serves, stop() ends it; status() for GET_STATUS."""

    def __init__(self, options: ServeOptions, token: str | None, transcribe: Callable[..., dict[str, Any]],
                 busy: Callable[[], bool], model_name: Callable[[], str]) -> None:
        self.options = options
        self.host, self.port = check_listen(options)
        self.admission = Admission(options.max_queue, options.queue_timeout_s, busy)
        self._app = build_app(options, token, transcribe, self.admission, model_name)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> None:
        import uvicorn
        import uvicorn.lifespan.off  # noqa: F401  (named, not found by string: PyInstaller sees it)
        from uvicorn.protocols.http.h11_impl import H11Protocol

        sock = self._bind()
        self.port = sock.getsockname()[1]  # port 0: the one the system chose
        # Pure-Python h11 on the stdlib loop, wherever uvloop or httptools happen to be installed.
        config = uvicorn.Config(self._app, http=H11Protocol, ws="none", log_config=None, access_log=False,
                                lifespan="off", timeout_keep_alive=5, limit_concurrency=self.options.max_queue + 32,
                                h11_max_incomplete_event_size=64 * 1024, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="v2m-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServeError(f"the HTTP server on {self.options.listen} did not start", "see the log")
            time.sleep(0.01)
        log.info("serving the OpenAI audio API at %s", self.url)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)

    def status(self) -> dict[str, Any]:
        return {"url": self.url, **self.admission.status()}

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            infos = socket.getaddrinfo(self.host, self.port, family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise ServeError(f"cannot listen on {self.options.listen}: {exc.strerror or exc}",
                             "pick another port with `v2m config set server.listen 127.0.0.1:PORT`") from None
        sock.setblocking(False)
        return sock

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[sock]))
        except BaseException:  # SystemExit from uvicorn included: logged, never the daemon's end
            log.exception("the HTTP server stopped")
        finally:
            sock.close()
