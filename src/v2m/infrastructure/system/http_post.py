"""One HTTP POST that a hostile or broken server cannot stretch, flood or redirect.

Standard library only (http.client), for the LLM client and remote engines:

- A total deadline on connect, TLS, send, headers and body: a watchdog shuts
  the sockets down at it, so a server dripping a byte a second gets nowhere.
- A size cap: the body is read in chunks, refused past `max_reply_bytes`
  (error bodies, status >= 300, are cut instead).
- No redirect leaves the configured origin (scheme, host, port): headers
  (credentials) and body go nowhere else. Same-origin 307/308 are followed,
  as they keep the method and body; 301/302/303 would turn the POST into a
  GET and drop the body, so they are refused rather than silently misused.
- Proxies from the environment, never for a loopback host.

Failures are exceptions saying what went wrong; HTTP statuses, even 5xx, are
replies. Nothing here logs headers or bodies.
"""

from __future__ import annotations

import base64
import json
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

CHUNK_BYTES = 64 * 1024
ERROR_BODY_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
FOLLOWED_REDIRECTS = (307, 308)


@dataclass(frozen=True)
class PostLimits:
    timeout_s: float  # the whole request, redirects included
    max_reply_bytes: int = 4 * 2**20
    max_redirects: int = 3  # same-origin 307/308 only


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes  # cut to ERROR_BODY_BYTES when status >= 300
    headers: Mapping[str, str]  # names in lower case
    url: str  # after same-origin redirects


class HttpFailure(Exception):
    """The request did not produce a reply that can be trusted."""


class DeadlineExceeded(HttpFailure):
    pass


class ReplyTooLarge(HttpFailure):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"reply larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class RedirectRefused(HttpFailure):
    """A redirect that is not followed; `cross_origin` says whether it left the origin."""

    def __init__(self, status: int, location: str, cross_origin: bool, too_many: bool = False) -> None:
        super().__init__(f"HTTP {status} to {location}")
        self.status, self.location = status, location
        self.cross_origin, self.too_many = cross_origin, too_many


class TransportFailed(HttpFailure):
    """No connection, a TLS error, a reset, or bytes that are not HTTP; `reason` says which."""

    def __init__(self, reason: BaseException) -> None:
        super().__init__(str(reason) or type(reason).__name__)
        self.reason = reason


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the unit a browser trusts; the port defaults by scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post(url: str, body: bytes, headers: Mapping[str, str], limits: PostLimits) -> Reply:
    """POST `body` to `url`; following only same-origin 307/308, all within one deadline."""
    deadline = time.monotonic() + limits.timeout_s
    home = origin(url)
    for _hop in range(limits.max_redirects + 1):
        reply = _post_once(url, body, headers, limits.max_reply_bytes, deadline)
        location = reply.headers.get("location")
        if reply.status not in REDIRECTS or not location:
            return reply
        target = urljoin(url, location)
        if origin(target) != home:
            raise RedirectRefused(reply.status, target, cross_origin=True)
        if reply.status not in FOLLOWED_REDIRECTS:
            raise RedirectRefused(reply.status, target, cross_origin=False)
        url = target
    raise RedirectRefused(reply.status, url, cross_origin=False, too_many=True)


def _post_once(url: str, body: bytes, headers: Mapping[str, str], cap: int, deadline: float) -> Reply:
    parts = _http_url(url)
    if time.monotonic() >= deadline:
        raise DeadlineExceeded()
    watchdog = _Watchdog(deadline)
    try:
        conn, target, extra = _connection(parts, deadline, watchdog)
        reply = _exchange(conn, target, body, {**headers, **extra}, cap)
    except (OSError, http.client.HTTPException) as exc:
        if watchdog.fired or isinstance(exc, TimeoutError):
            raise DeadlineExceeded() from None
        raise TransportFailed(exc) from None
    except ValueError:  # http.client's own words would quote the header value: a credential
        raise TransportFailed(ValueError("a request header holds characters HTTP does not allow")) from None
    finally:
        watchdog.stop()
    if watchdog.fired:  # a body cut short by the watchdog can look complete
        raise DeadlineExceeded()
    return Reply(reply.status, reply.body, reply.headers, url)


def _http_url(url: str) -> SplitResult:
    parts = urlsplit(url)
    try:
        parts.port  # raises on a port that is not a number
    except ValueError as exc:
        raise TransportFailed(exc) from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise TransportFailed(ValueError(f"not an http(s) URL: {parts.scheme}://{parts.netloc}"))
    return parts


def _exchange(conn: http.client.HTTPConnection, target: str, body: bytes, headers: Mapping[str, str],
              cap: int) -> Reply:
    response: http.client.HTTPResponse | None = None
    try:
        conn.request("POST", target, body, dict(headers))
        response = conn.getresponse()
        data = _read_body(response, cap)
        names = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, data, names, target)
    finally:
        # A response read to the connection's end owns the socket, not conn.
        if response is not None:
            response.close()
        conn.close()


def _read_body(response: http.client.HTTPResponse, cap: int) -> bytes:
    """The body, read in chunks; past `cap` a success is refused and an error body cut."""
    strict = response.status < 300
    limit = cap if strict else min(cap, ERROR_BODY_BYTES)
    if strict and response.length is not None and response.length > limit:
        raise ReplyTooLarge(limit)
    data = bytearray()
    while len(data) <= limit:
        chunk = response.read(min(CHUNK_BYTES, limit + 1 - len(data)))
        if not chunk:
            return bytes(data)
        data += chunk
    if strict:
        raise ReplyTooLarge(limit)
    return bytes(data[:limit])


def _connection(parts: SplitResult, deadline: float,
                watchdog: "_Watchdog") -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection to the server or its proxy, the request target, and headers for the proxy."""
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS[parts.scheme]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = max(deadline - time.monotonic(), 0.001)
    proxy = _proxy_for(parts.scheme, host)
    via = (proxy.hostname or "", proxy.port or 80) if proxy else (host, port)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(*via, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(*via, timeout=timeout)
    # The one place http.client opens sockets (the proxy's too, before CONNECT
    # and TLS): the watchdog gets each socket before anything is read from it.
    conn._create_connection = watchdog.connect  # type: ignore[attr-defined]
    extra: dict[str, str] = {}
    if proxy is None:
        return conn, target, extra
    auth = _proxy_auth(proxy)
    if parts.scheme == "https":
        conn.set_tunnel(host, port, headers=auth)
        return conn, target, extra
    return conn, parts._replace(fragment="").geturl(), auth


def _proxy_for(scheme: str, host: str) -> SplitResult | None:
    """The environment's proxy for this scheme and host, if any; never for loopback."""
    if is_loopback(host):
        return None
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise TransportFailed(ValueError(f"unsupported {scheme}_proxy (use an http:// proxy)"))
    return parts


def _proxy_auth(proxy: SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


class _Watchdog:
    """Shuts a request's sockets down at its deadline, whatever read or write is blocked."""

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._deadline = deadline
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def connect(self, address: tuple[str, int], timeout: Any = None, *args: Any, **kwargs: Any) -> socket.socket:
        # Each address tried may take the time left: connect is bounded by the
        # socket timeout (a watchdog needs a socket to shut down).
        left = max(self._deadline - time.monotonic(), 0.001)
        sock = socket.create_connection(address, left, *args, **kwargs)
        with self._lock:
            # A duplicate descriptor survives the wrapping (TLS detaches the
            # original socket object); shutdown() acts on the connection itself.
            self._socks.append(sock.dup())
            if self.fired:
                _shutdown(self._socks[-1])
        return sock

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._socks:
                _shutdown(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by either side


EXCERPT_CHARS = 200


def error_excerpt(raw: bytes, key: str = "") -> str:
    """A short, single-line piece of an error body, with `key` masked: a
    server may echo the credential back. OpenAI-style bodies give their
    error message."""
    text = " ".join(raw.decode("utf-8", "replace").split())
    try:  # {"error": {"message": ...}}
        error = json.loads(text).get("error")
        text = error.get("message", text) if isinstance(error, dict) else str(error or text)
    except (ValueError, AttributeError, RecursionError):
        pass
    text = redact(text, key)
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def redact(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text
