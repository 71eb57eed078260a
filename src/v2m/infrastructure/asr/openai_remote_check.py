"""`v2m doctor` for the remote engine: key present, server reachable, model listed.

GET {base_url}/models, once, within the timeout. http_post only POSTs, so
this one GET uses urllib with redirects refused (the Authorization header
goes nowhere but the configured origin) and the reply read up to a cap.
A server without that route (404: faster-whisper-server, some proxies)
leaves the model unknown, which is fine.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

from v2m.infrastructure.asr.openai_remote import RemoteOptions
from v2m.infrastructure.system import http_post

MAX_REPLY_BYTES = 2 * 2**20


def finding(check: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    """diagnostics.finding's shape."""
    return {"check": check, "ok": ok, "detail": detail, "fix": "" if ok else fix}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def check_remote(o: RemoteOptions, environ: Mapping[str, str] = os.environ,
                 timeout_s: float | None = None) -> list[dict[str, Any]]:
    base = o.base_url.rstrip("/")
    found: list[dict[str, Any]] = []
    key = environ.get(o.api_key_env, "").strip() if o.api_key_env else ""
    if o.api_key_env:
        found.append(finding("remote key", bool(key), f"${o.api_key_env} is " + ("set" if key else "not set"),
                             f"set {o.api_key_env} in the daemon's environment "
                             "(`systemctl --user set-environment`), or api_key_env = \"\""))
    request = urllib.request.Request(f"{base}/models", headers={"Accept": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    local = http_post.is_loopback(urlsplit(base).hostname or "")  # a local server stays local: no proxy
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({} if local else None))
    try:
        with opener.open(request, timeout=timeout_s or o.timeout_s) as reply:
            body = reply.read(MAX_REPLY_BYTES + 1)
            status = reply.status
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        said = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        if key:
            said = said.replace(key, "***")
        return found + [finding("remote engine", False, f"cannot reach {base}: {said}",
                                "start the server, or fix [transcription.remote] base_url")]
    found.append(_reachable(base, status, o))
    if status == 200:
        found.append(_listed(base, body, o.model))
    elif status == 404:
        found.append(finding("remote model", True, f"{base} has no /models route; {o.model!r} not checked"))
    return found


def _reachable(base: str, status: int, o: RemoteOptions) -> dict[str, Any]:
    if status in (401, 403):
        return finding("remote engine", False, f"{base} refused the key (HTTP {status})",
                       f"check the key in ${o.api_key_env}" if o.api_key_env else "set api_key_env")
    if 300 <= status < 400:
        return finding("remote engine", False, f"{base}/models redirects (HTTP {status})",
                       "set base_url to the final URL")
    if status >= 500:
        return finding("remote engine", False, f"{base} answered HTTP {status}", "see the server's log")
    return finding("remote engine", True, f"{base} answers (GET /models: HTTP {status})")


def _listed(base: str, body: bytes, model: str) -> dict[str, Any]:
    try:
        data = json.loads(body) if len(body) <= MAX_REPLY_BYTES else None
        ids = [m.get("id") for m in data["data"] if isinstance(m, dict)]
    except (ValueError, KeyError, TypeError, RecursionError):
        return finding("remote model", True, f"{base}/models is not a model list; {model!r} not checked")
    if model in ids:
        return finding("remote model", True, f"{model!r} is listed by {base}")
    shown = ", ".join(str(i) for i in ids[:8]) + ("…" if len(ids) > 8 else "")
    return finding("remote model", False, f"{model!r} is not among the models of {base}: {shown or 'none'}",
                   "set [transcription.remote] model to one of them")
