"""A local stand-in for the Hugging Face Hub, for tests of `v2m models pull`.

It serves folders as model repos over plain HTTP, with exactly the routes and
headers huggingface_hub 2.4 reads:

- GET  /api/models/{repo}[/revision/{rev}]   model_info / repo_info
- GET  /api/models/{repo}/tree/{rev}[/{dir}]  list_repo_tree (snapshot_download)
- HEAD /{repo}/resolve/{rev}/{file}           get_hf_file_metadata
- GET  /{repo}/resolve/{rev}/{file}           http_get, honouring Range

Files are answered directly (200/206), never redirected unless `redirects`
asks for it, and no X-Xet-* header is ever sent, so the client always downloads over plain HTTP from this server
even when hf_xet is installed.

Faults can be injected at any time: `drop_after_bytes` cuts one GET short
(`reset_on_drop` picks RST over FIN), `corrupt` alters served bytes while every
header and API field stays that of the true file, and `requests` logs
(method, path with query, Range header) for each request, `request_headers`
their headers.

Hostile hubs: `sticky_drops` keeps `drop_after_bytes` armed for every GET.
Keyed by file name, or "api" for the /api routes,
`redirects[key] = (status, other_endpoint)` answers with a redirect to the
same path on another server; `drip[key] = "headers"` or `"body"` sends one
byte every `drip_every_s` (until stopped) after the status line or after the
headers; `oversize[name] = n` declares and sends n bytes more than the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_COMMIT = "0123456789abcdef0123456789abcdef01234567"
# The real Systran repos keep model.bin in LFS and the json/txt files in git.
LFS_SUFFIXES = {".bin", ".safetensors", ".pt", ".onnx", ".gguf"}
LFS_MIN_SIZE = 10 * 2**20
CHUNK = 64 * 1024
TIMESTAMP = "2024-01-01T00:00:00.000Z"


def _git_oid(data: bytes) -> str:
    """Git blob id, what the hub reports as `blobId`/`oid` and ETag of git files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class _Blob:
    path: Path
    size: int
    sha256: str
    oid: str  # git blob id: of the content for git files, of the pointer for LFS ones
    pointer_size: int | None  # set only for LFS files

    @classmethod
    def of(cls, path: Path) -> "_Blob":
        sha256, sha1 = hashlib.sha256(), hashlib.sha1()
        size = path.stat().st_size
        sha1.update(b"blob %d\0" % size)
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                sha256.update(chunk)
                sha1.update(chunk)
        if path.suffix not in LFS_SUFFIXES and size < LFS_MIN_SIZE:
            return cls(path, size, sha256.hexdigest(), sha1.hexdigest(), None)
        # Like the real hub, an LFS file's blob id is that of its pointer file.
        pointer = (f"version https://git-lfs.github.com/spec/v1\n"
                   f"oid sha256:{sha256.hexdigest()}\nsize {size}\n").encode()
        return cls(path, size, sha256.hexdigest(), _git_oid(pointer), len(pointer))

    @property
    def etag(self) -> str:
        """The hub's ETag: sha256 for LFS files, git blob id for the others."""
        return self.sha256 if self.pointer_size is not None else self.oid


class FakeHub:
    """Serves a folder of model files as repo(s) on a local HTTP server."""

    def __init__(self, repos: dict[str, Path], commit: str = DEFAULT_COMMIT) -> None:
        self.commit = commit
        # Hash once up front: every HEAD/API answer needs sizes and digests.
        self.repos: dict[str, dict[str, _Blob]] = {
            repo_id: {p.relative_to(folder).as_posix(): _Blob.of(p)
                      for p in sorted(Path(folder).rglob("*")) if p.is_file()}
            for repo_id, folder in repos.items()}
        self.drop_after_bytes: dict[str, int] = {}
        # False: a drop ends in a FIN, which huggingface_hub 2.4 retries in the
        # same call with `Range: bytes=N-`. True: it ends in a RST, which the
        # client raises (httpx2.ReadError) and does not resume on a later call.
        self.reset_on_drop = False
        self.sticky_drops = False
        self.corrupt: set[str] = set()
        self.requests: list[tuple[str, str, str | None]] = []
        self.request_headers: list[dict[str, str]] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        self.drip: dict[str, str] = {}
        self.drip_every_s = 0.2
        self.oversize: dict[str, int] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "FakeHub":
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()  # ends drips
        self._server.shutdown()
        self._server.server_close()
        # Keep-alive connections outlive the listener; cut them so that a
        # client's pooled connection cannot keep talking to a "down" hub.
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            _hard_close(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeHub is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeHub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def take_drop(self, filename: str) -> int | None:
        """Pop the one-shot interruption armed for `filename`, if any."""
        with self._lock:
            if self.sticky_drops:
                return self.drop_after_bytes.get(filename)
            return self.drop_after_bytes.pop(filename, None)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._conns.add if alive else self._conns.discard)(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Clients hanging up mid-body (cancelled or retried downloads) are
        # expected here; anything else is still worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _hard_close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer or by the handler


def _split(path: str) -> list[str]:
    """Path segments, each unquoted on its own so an encoded '/' stays inside one."""
    return [unquote(part) for part in path.strip("/").split("/")]


def _make_handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        pass
    Handler.hub = hub
    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    hub: FakeHub
    # HTTP/1.1 keep-alive, as the real hub does; every reply sets Content-Length.
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.hub.track(self.connection, alive=True)

    def finish(self) -> None:
        self.hub.track(self.connection, alive=False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        pass  # `requests` is the log; keep test output clean

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, head: bool) -> None:
        self.hub.requests.append((self.command, self.path, self.headers.get("Range")))
        self.hub.request_headers.append(dict(self.headers.items()))
        url = urlsplit(self.path)
        parts = _split(url.path)
        if self._hostile("api" if parts[:2] == ["api", "models"] else parts[-1], head):
            return
        if parts[:2] == ["api", "models"]:
            return self._api(parts[2:], parse_qs(url.query), head)
        found = self._find_repo(parts, head)
        if found is None:
            return
        repo_id, rest = found
        if len(rest) < 3 or rest[0] != "resolve":
            return self._error(404, "EntryNotFound", f"No route for {url.path}", head)
        if self._check_revision(rest[1], head):
            self._send_file(repo_id, "/".join(rest[2:]), head)

    def _hostile(self, key: str, head: bool) -> bool:
        """Answer with the redirect or header drip armed for `key`; whether one was."""
        if key in self.hub.redirects:
            status, endpoint = self.hub.redirects[key]
            self._send_json(status, {"error": "moved"}, {"Location": endpoint + self.path}, head)
            return True
        if self.hub.drip.get(key) == "headers":
            self.wfile.write(f"{self.protocol_version} 200 OK\r\nX-Drip: ".encode())
            self._drip()
            return True
        return False

    def _drip(self) -> None:
        self.close_connection = True
        while not self.hub.stopping.wait(self.hub.drip_every_s):
            self.wfile.write(b"a")
            self.wfile.flush()

    def _find_repo(self, parts: list[str], head: bool) -> tuple[str, list[str]] | None:
        """Longest known repo id that prefixes `parts`, and the segments after it."""
        for n in (2, 1):
            repo_id = "/".join(parts[:n])
            if repo_id in self.hub.repos:
                return repo_id, parts[n:]
        self._error(404, "RepoNotFound", f"Repository {'/'.join(parts[:2])} not found", head)
        return None

    def _check_revision(self, revision: str, head: bool) -> bool:
        # A branch name and the commit sha name the same (only) commit.
        if revision in ("main", self.hub.commit):
            return True
        self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
        return False

    def _api(self, parts: list[str], query: dict[str, list[str]], head: bool) -> None:
        found = self._find_repo(parts, head)
        if found is None:
            return
        repo_id, rest = found
        revision = rest[1] if len(rest) > 1 else "main"
        if rest and rest[0] not in ("revision", "tree"):
            return self._error(404, "EntryNotFound", f"No API route {'/'.join(rest)}", head)
        if not self._check_revision(revision, head):
            return
        if rest and rest[0] == "tree":
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            body = self._tree(repo_id, "/".join(rest[2:]), recursive)
        else:
            blobs = query.get("blobs", ["false"])[0].lower() == "true"
            body = self._model_info(repo_id, blobs)
        if body is None:
            return self._error(404, "EntryNotFound", "No such folder in repo", head)
        self._send_json(200, body, {}, head)

    def _model_info(self, repo_id: str, blobs: bool) -> dict:
        files = self.hub.repos[repo_id]
        siblings = []
        for name, blob in files.items():
            sibling: dict = {"rfilename": name}
            if blobs:  # the hub sends sizes and digests only for ?blobs=true
                sibling.update(size=blob.size, blobId=blob.oid)
                if blob.pointer_size is not None:
                    sibling["lfs"] = {"sha256": blob.sha256, "size": blob.size,
                                      "pointerSize": blob.pointer_size}
            siblings.append(sibling)
        return {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
                "modelId": repo_id, "author": repo_id.split("/")[0], "sha": self.hub.commit,
                "lastModified": TIMESTAMP, "createdAt": TIMESTAMP, "private": False,
                "disabled": False, "gated": False, "downloads": 0, "likes": 0,
                "tags": [], "library_name": "ctranslate2", "siblings": siblings,
                "usedStorage": sum(b.size for b in files.values())}

    def _tree(self, repo_id: str, folder: str, recursive: bool) -> list[dict] | None:
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, dict] = {}
        for name, blob in self.hub.repos[repo_id].items():
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix):].split("/")
            # Folders are entries too: every parent if recursive, else the top one.
            for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
                path = prefix + "/".join(parts[:depth])
                entries[path] = {"type": "directory", "oid": _git_oid(path.encode()),
                                 "size": 0, "path": path}
            if recursive or len(parts) == 1:
                entries[name] = self._tree_file(name, blob)
        return list(entries.values()) if entries or not folder else None

    @staticmethod
    def _tree_file(name: str, blob: _Blob) -> dict:
        # Note the tree API spells the LFS digest "oid", unlike model_info's "sha256".
        entry: dict = {"type": "file", "oid": blob.oid, "size": blob.size, "path": name}
        if blob.pointer_size is not None:
            entry["lfs"] = {"oid": blob.sha256, "size": blob.size, "pointerSize": blob.pointer_size}
        return entry

    def _send_file(self, repo_id: str, name: str, head: bool) -> None:
        blob = self.hub.repos[repo_id].get(name)
        if blob is None:
            return self._error(404, "EntryNotFound", f"{name} does not exist", head)
        span = (0, blob.size) if head else _parse_range(self.headers.get("Range"), blob.size)
        if span is None:
            return self._error(416, None, "Range not satisfiable", head,
                               {"Content-Range": f"bytes */{blob.size}"})
        start, end = span
        partial = (start, end) != (0, blob.size)
        extra = 0 if partial or head else self.hub.oversize.get(name, 0)
        self.send_response(206 if partial else 200)
        # What get_hf_file_metadata reads: commit, etag (X-Linked-Etag first), size.
        self.send_header("X-Repo-Commit", self.hub.commit)
        self.send_header("ETag", f'"{blob.etag}"')
        if blob.pointer_size is not None:
            self.send_header("X-Linked-Etag", f'"{blob.sha256}"')
            self.send_header("X-Linked-Size", str(blob.size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + extra))
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{blob.size}")
        self.end_headers()
        if head:
            return
        if self.hub.drip.get(name) == "body":
            return self._drip()
        self._stream(blob, name, start, end)
        while extra > 0:
            self.wfile.write(bytes(min(CHUNK, extra)))
            extra -= CHUNK

    def _stream(self, blob: _Blob, name: str, start: int, end: int) -> None:
        drop = self.hub.take_drop(name)
        limit = end if drop is None else min(end, start + drop)
        flip = blob.size // 2 if name in self.hub.corrupt else -1
        with blob.path.open("rb") as f:
            f.seek(start)
            pos = start
            while pos < limit:
                chunk = bytearray(f.read(min(CHUNK, limit - pos)))
                if pos <= flip < pos + len(chunk):
                    chunk[flip - pos] ^= 0xFF  # same size, different sha256
                self.wfile.write(chunk)
                pos += len(chunk)
        if pos < end:
            # Hang up mid-body: the client sees fewer bytes than Content-Length.
            self.close_connection = True
            self.wfile.flush()
            if self.hub.reset_on_drop:
                # Linger 0 turns close() into a RST; a shutdown() first would send a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                _hard_close(self.connection)

    def _send_json(self, status: int, body: object, headers: dict[str, str], head: bool) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _error(self, status: int, code: str | None, message: str, head: bool,
               headers: dict[str, str] | None = None) -> None:
        # hf_raise_for_status maps X-Error-Code to RepositoryNotFoundError,
        # RevisionNotFoundError or RemoteEntryNotFoundError.
        extra = dict(headers or {}, **{"X-Error-Message": message})
        if code is not None:
            extra["X-Error-Code"] = code
        self._send_json(status, {"error": message}, extra, head)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Half-open byte span for a single-range `Range` header; None if unsatisfiable."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header or "")
    if match is None or match.groups() == ("", ""):
        return 0, size  # absent or unsupported: serve the whole file (200)
    first, last = match.groups()
    if not first:  # "bytes=-N": the last N bytes
        return (max(size - int(last), 0), size) if int(last) > 0 else None
    start, end = int(first), min(int(last) + 1, size) if last else size
    return (start, end) if start < end else None
