"""Who may use the server: Host, Origin and bearer-token checks, and the listen address.

- Host: a web page can make its own name resolve to 127.0.0.1 (DNS
  rebinding) and so reach a loopback server from the browser; the Host
  header still carries the page's name, so only our own names pass.
- Origin: browsers add it to every cross-site POST; a request carrying one
  is refused unless [server] allowed_origins names it. Other apps (curl,
  the openai package) send none.
- Token: `Authorization: Bearer <token>`, compared in constant time.

Standard library only.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
from typing import Mapping

from v2m.domain.errors import ConfigError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    listen: str = "127.0.0.1:8765"
    auth: bool = True                       # require the bearer token
    allowed_hosts: tuple[str, ...] = ()     # more Host names (e.g. "box.lan"), besides ours
    allowed_origins: tuple[str, ...] = ()   # browser origins let in, e.g. "http://localhost:3000"
    max_upload_mb: float = 25.0             # a larger body gets 413
    max_queue: int = 4                      # requests waiting for the ASR worker; more get 503
    queue_timeout_s: float = 60.0           # a request waits this long for its turn, then 503

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


def parse_listen(listen: str) -> tuple[str, int]:
    """"127.0.0.1:8765", "[::1]:8765", "localhost:8765" or ":8765" (loopback) -> (host, port)."""
    text = listen.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"[server] listen = {listen!r} is not HOST:PORT", 'e.g. "127.0.0.1:8765"')
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(options: ServeOptions) -> tuple[str, int]:
    host, port = parse_listen(options.listen)
    if not is_loopback(host) and not options.auth:
        raise ConfigError(f"[server] listen = {options.listen!r} is reachable from other machines, "
                          "and [server] auth is off", "turn auth on, or listen on 127.0.0.1")
    return host, port


def allowed_hosts(options: ServeOptions) -> frozenset[str]:
    """Host header values accepted: our listen name and loopback names, with or without the port."""
    host, port = parse_listen(options.listen)
    names = {f"[{host}]" if ":" in host else host, *LOOPBACK_NAMES, *options.allowed_hosts}
    if host in ("0.0.0.0", "::"):
        names.discard(f"[{host}]" if ":" in host else host)  # nobody's name
    return frozenset(n.lower() for name in names for n in (name, f"{name}:{port}"))


def refusal(headers: Mapping[str, str], path: str, options: ServeOptions, hosts: frozenset[str],
            token: str | None) -> tuple[int, str, str] | None:
    """(status, error code, message) to refuse the request with, or None to serve it.

    `headers` has lower-case names; a header sent twice arrives joined by ",".
    """
    host = headers.get("host", "").strip().lower()
    if host not in hosts:
        return 400, "invalid_host", (f"Host {host[:80]!r} is not this server's name; add it to "
                                     "[server] allowed_hosts if it is (DNS rebinding guard)")
    origin = headers.get("origin")
    if origin is not None and origin.strip().rstrip("/").lower() not in {
            o.rstrip("/").lower() for o in options.allowed_origins}:
        return 403, "origin_not_allowed", (f"requests from web pages ({origin[:80]!r}) are refused; add "
                                           "the origin to [server] allowed_origins to let that page in")
    if path == "/health" or not options.auth:
        return None
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if token is None or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                                token.encode()):
        return 401, "invalid_api_key", ("missing or wrong bearer token; send `Authorization: Bearer "
                                        "<token>`, the token printed by `v2m serve token`")
    return None
