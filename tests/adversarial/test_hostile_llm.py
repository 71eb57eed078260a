"""OpenAiChatModel against hostile LLM servers (security review, issue 12).

Real loopback servers only: FakeLlm (tests/support/fake_llm.py) for
redirects and proxies, and a raw socket server for replies no HTTP library
would send (drips, floods, garbage). Every test is bounded to a few seconds.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from typing import Callable

import pytest

from tests.support.fake_llm import CHAT_PATH, FakeLlm
from v2m.domain.errors import LlmError
from v2m.infrastructure.llm.openai_chat import OpenAiChatModel

SECRET = "sk-hostile-0123456789abcdef-SECRET"
TEXT = "the quick brown fox jumps over the lazy dog"
DRIP_EVERY_S = 0.2
DRIP_LIMIT_S = 5.0  # "forever", but an unfixed client still ends (and fails) in bounded time
HUGE_BYTES = 50 * 2**20
MAX_REPLY_BYTES = 4 * 2**20  # the client's cap on a chat completion
CHUNK = 64 * 1024

pytestmark = pytest.mark.timeout(30)


def chat(base_url: str, **kw) -> OpenAiChatModel:
    options = {"model": "m", "api_key_env": "K", "timeout_s": 1.0, "retries": 0, "environ": {"K": SECRET}}
    options.update(kw)
    return OpenAiChatModel(base_url, **options)


# -- a raw HTTP server: one behaviour per connection, bytes counted --------------------

class RawServer:
    """Loopback TCP server running `behave(server, conn)` for each connection in its own thread."""

    def __init__(self, behave: Callable[["RawServer", socket.socket], None]) -> None:
        self.behave = behave
        self.stopping = threading.Event()
        self.connections = 0
        self.sent = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> "RawServer":
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._acceptor.join(5)
        self._listener.close()
        self.join()

    def join(self, timeout_s: float = 5.0) -> bool:
        """Wait for every connection's behaviour to end; whether they all did."""
        ends = time.monotonic() + timeout_s
        for thread in list(self._threads):
            thread.join(max(ends - time.monotonic(), 0))
        return not any(thread.is_alive() for thread in self._threads)

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent += len(data)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                read_request(conn)
                self.behave(self, conn)
            except OSError:
                pass  # the client hung up: what a well-behaved client does here


def read_request(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536) or b" " * length
    return data


def drip(server: RawServer, conn: socket.socket, prefix: bytes) -> None:
    server.send(conn, prefix)
    ends = time.monotonic() + DRIP_LIMIT_S
    while time.monotonic() < ends and not server.stopping.wait(DRIP_EVERY_S):
        server.send(conn, b"a")


def drip_headers(server: RawServer, conn: socket.socket) -> None:
    drip(server, conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: ")


def drip_body(server: RawServer, conn: socket.socket) -> None:
    drip(server, conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")


def flood(framing: str) -> Callable[[RawServer, socket.socket], None]:
    """A 50 MB reply, framed by Content-Length, by the connection's end, or chunked."""
    def behave(server: RawServer, conn: socket.socket) -> None:
        head = {"length": f"Content-Length: {HUGE_BYTES}\r\n", "close": "Connection: close\r\n",
                "chunked": "Transfer-Encoding: chunked\r\n"}[framing]
        server.send(conn, f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}\r\n".encode())
        piece = b" " * CHUNK
        if framing == "chunked":
            piece = b"%x\r\n%s\r\n" % (CHUNK, piece)
        for _ in range(HUGE_BYTES // CHUNK):
            server.send(conn, piece)
    return behave


def canned(raw: bytes) -> Callable[[RawServer, socket.socket], None]:
    def behave(server: RawServer, conn: socket.socket) -> None:
        server.send(conn, raw)
    return behave


def reply(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (len(body), body))


# -- redirects: the key (and the text) stay with the configured origin -----------------

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_gets_neither_the_key_nor_the_text(status):
    with FakeLlm() as first, FakeLlm() as second:
        target = second.base_url + "/chat/completions"
        first.redirects[CHAT_PATH] = (status, target)
        with pytest.raises(LlmError) as caught:
            chat(first.base_url, retries=2).complete("s", TEXT)
        for request in second.requests:  # what the unfixed client leaked, if anything
            assert SECRET not in str(request.headers), f"key sent to {target}"
            assert SECRET.encode() not in request.raw and TEXT.encode() not in request.raw
        assert second.count == 0 and first.count == 1
    error = caught.value
    assert f"redirected (HTTP {status}) to {target}" in error.message, error.message
    assert "another origin" in error.message and "does not send credentials" in error.message
    assert "[llm] base_url" in error.hint and SECRET not in str(error)


@pytest.mark.parametrize("origin", ["http://localhost:{port}", "https://127.0.0.1:{port}",
                                    "http://127.0.0.1:{other}", "//127.0.0.2:{port}"])
def test_another_scheme_host_or_port_is_another_origin(origin):
    with FakeLlm() as first:
        port = int(first.base_url.split(":")[2].split("/")[0])
        target = origin.format(port=port, other=port + 1) + "/v1/chat/completions"
        first.redirects[CHAT_PATH] = (307, target)
        with pytest.raises(LlmError, match="another origin"):
            chat(first.base_url).complete("s", TEXT)
        assert first.count == 1


def test_a_same_origin_307_is_followed_with_the_body_and_key():
    with FakeLlm() as llm:
        llm.redirects[CHAT_PATH] = (307, CHAT_PATH + "?hop=1")
        assert chat(llm.base_url).complete("s", TEXT) == "The quick brown fox jumps over the lazy dog."
        first, second = llm.requests
    assert second.path == CHAT_PATH + "?hop=1" and second.raw == first.raw
    assert second.headers["Authorization"] == f"Bearer {SECRET}"


def test_a_same_origin_302_is_refused_as_it_would_drop_the_body():
    with FakeLlm() as llm:
        llm.redirects[CHAT_PATH] = (302, CHAT_PATH + "?hop=1")
        with pytest.raises(LlmError, match=r"redirected \(HTTP 302\)") as caught:
            chat(llm.base_url).complete("s", TEXT)
        assert llm.count == 1 and "[llm] base_url" in caught.value.hint


def test_a_redirect_loop_ends():
    with FakeLlm() as llm:
        llm.redirects[CHAT_PATH] = (308, CHAT_PATH + "?hop=1")
        llm.redirects[CHAT_PATH + "?hop=1"] = (308, CHAT_PATH)
        with pytest.raises(LlmError, match="too many redirects"):
            chat(llm.base_url, retries=2).complete("s", TEXT)
        assert 2 <= llm.count <= 5


# -- time: one deadline per attempt, however the server drips --------------------------

@pytest.mark.parametrize("behave", [drip_headers, drip_body], ids=["headers", "body"])
@pytest.mark.parametrize("retries", [0, 1])
def test_a_dripping_server_cannot_stretch_the_timeout(behave, retries):
    timeout_s = 1.0
    with RawServer(behave) as server:
        started = time.monotonic()
        with pytest.raises(LlmError) as caught:
            chat(server.base_url, timeout_s=timeout_s, retries=retries).complete("s", TEXT)
        elapsed = time.monotonic() - started
        assert server.connections == retries + 1
    assert elapsed < timeout_s * (retries + 1) + 0.3 * retries + 1.0, f"took {elapsed:.1f} s"
    assert f"did not answer within {timeout_s:g} s" in caught.value.message
    assert SECRET not in str(caught.value)


def test_a_server_that_accepts_and_says_nothing_times_out():
    with RawServer(lambda server, conn: server.stopping.wait(DRIP_LIMIT_S)) as server:
        started = time.monotonic()
        with pytest.raises(LlmError, match="did not answer within 0.5 s"):
            chat(server.base_url, timeout_s=0.5).complete("s", TEXT)
        assert time.monotonic() - started < 1.5


# -- size: the reply is read in chunks and refused past the cap ------------------------

@pytest.mark.parametrize("framing", ["length", "close", "chunked"])
def test_a_huge_reply_is_refused_without_reading_it_into_memory(framing):
    with RawServer(flood(framing)) as server:
        tracemalloc.start()
        try:
            with pytest.raises(LlmError) as caught:
                chat(server.base_url, timeout_s=10.0, retries=2).complete("s", TEXT)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert server.join(2.0), "the client did not hang up"  # which ends the flood
        assert server.connections == 1  # not retried
    assert f"larger than {MAX_REPLY_BYTES // 2**20} MiB" in caught.value.message
    # At most the cap and one chunk in memory (a bytearray grows by ~1/8).
    assert peak < MAX_REPLY_BYTES * 1.2 + CHUNK + 256 * 1024, f"peak {peak / 2**20:.1f} MiB"
    # The server pushed what fits in the kernel's socket buffers, not 50 MB.
    assert server.sent < HUGE_BYTES * 0.8


# -- shape: whatever comes back, the error is an LlmError ------------------------------

BAD_REPLIES = {
    "html": reply(b"<html><body>Welcome to nginx!</body></html>"),
    "empty body": reply(b""),
    "not utf-8": reply(b"\xff\xfe\x00{\x00garbage"),
    "deeply nested": reply(b"[" * 200_000),
    "json list": reply(b"[1, 2, 3]"),
    "choices not a list": reply(b'{"choices": "nope"}'),
    "choice not an object": reply(b'{"choices": ["nope"]}'),
    "content a number": reply(b'{"choices": [{"message": {"content": 5}}]}'),
    "content parts of numbers": reply(b'{"choices": [{"message": {"content": [{"text": 5}, 7]}}]}'),
    "truncated": reply(b'{"choices": [{"message": {"content": "hello"}}]}')[:-10],
    "not http": b"SSH-2.0-OpenSSH_9.2\r\n",
    "error of deep json": reply(b"[" * 200_000).replace(b"200 OK", b"500 Oops"),
    "huge error body": reply(b"x" * (5 * 2**20)).replace(b"200 OK", b"503 Busy"),
    "bad status line": b"HTTP/1.1 two hundred OK\r\n\r\n",
}


@pytest.mark.parametrize("raw", BAD_REPLIES.values(), ids=BAD_REPLIES.keys())
def test_a_reply_of_the_wrong_shape_is_a_clean_llm_error(raw):
    with RawServer(canned(raw)) as server:
        with pytest.raises(LlmError) as caught:
            chat(server.base_url).complete("s", TEXT)
    assert type(caught.value) is LlmError and server.base_url in caught.value.message
    assert SECRET not in str(caught.value)


# -- kept behaviour: proxies from the environment, except for loopback ----------------

def test_an_env_proxy_is_not_used_for_a_loopback_server(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # discard port: nothing listens
    with FakeLlm() as llm:
        assert chat(llm.base_url).complete("s", TEXT)


def test_an_env_proxy_carries_requests_to_other_hosts(monkeypatch):
    with FakeLlm() as proxy:
        monkeypatch.setenv("http_proxy", proxy.base_url.removesuffix("/v1"))
        for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
            monkeypatch.delenv(name, raising=False)
        assert chat("http://llm.invalid/v1", api_key_env="").complete("s", TEXT)
        assert proxy.requests[-1].path == "http://llm.invalid/v1/chat/completions"
        assert proxy.requests[-1].headers["Host"] == "llm.invalid"
