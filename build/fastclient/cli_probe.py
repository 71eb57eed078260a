"""Run the real Python CLI in-process against a fake daemon socket and a fake
file system, and record what it sends, prints, exits with and notifies.
gen_header.py reads the C fast client's behaviour off these runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

XDG = ("/@v2m-run-a@", "/@v2m-run-b@/deeper")   # XDG_RUNTIME_DIR in the probes
UIDS = (1999999001, 1999999011)                  # os.getuid() (under 2**31: SO_PEERCRED is "3i")
NOTIFY_DIR = "/@v2m-bin@"                        # where shutil.which finds any tool
OUT, ERR = 1, 2


@dataclass
class World:
    xdg: str | None = XDG[0]
    uid: int = UIDS[0]
    stats: dict = field(default_factory=dict)   # path -> os.stat_result or OSError
    connect_error: OSError | None = None
    peer_uid: int | None = None
    peercred_error: OSError | None = None
    recv: list = field(default_factory=list)    # chunks or exceptions to raise; then EOF
    sent: bytearray = field(default_factory=bytearray)
    timeouts: list = field(default_factory=list)


@dataclass
class Outcome:
    stdout: str
    stderr: str
    code: int
    clean: bool                                 # exited normally or through the CLI's error handler
    notified: list = field(default_factory=list)  # (tool asked for, argv, kwargs) per notification
    keys: list = field(default_factory=list)      # reply data keys the command read, in order

    def line(self) -> tuple[int, str] | None:
        """(stream, text without the newline) when the output is exactly one line."""
        streams = [(s, t) for s, t in ((OUT, self.stdout), (ERR, self.stderr)) if t]
        if len(streams) != 1 or not streams[0][1].endswith("\n") or "\n" in streams[0][1][:-1]:
            return None
        return streams[0][0], streams[0][1][:-1]


def fake_stat(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 1, 1, 1, uid, 0, 0, 0, 0, 0))


class FakeSocket:
    world: World

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.w = FakeSocket.world

    def settimeout(self, timeout: float | None) -> None:
        self.w.timeouts.append(timeout)

    def connect(self, path: object) -> None:
        if self.w.connect_error:
            raise self.w.connect_error

    def getsockopt(self, *args: object) -> bytes:
        if self.w.peercred_error:
            raise self.w.peercred_error
        return struct.pack("3i", 4242, self.w.uid if self.w.peer_uid is None else self.w.peer_uid, 0)

    def sendall(self, data: bytes) -> None:
        self.w.sent += data

    def recv(self, size: int) -> bytes:
        item = self.w.recv.pop(0) if self.w.recv else b""
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        pass


class KeyLog(dict):
    """Reply data that records which keys the command reads."""

    def __init__(self, data: dict, log: list) -> None:
        super().__init__(data)
        self.log = log

    def get(self, key, default=None):
        self.log.append(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.log.append(key)
        return super().__getitem__(key)

    def __bool__(self) -> bool:
        return True  # `client.call(...) or {}` keeps the log


@contextlib.contextmanager
def runtime_env(xdg: str | None) -> Iterator[None]:
    """XDG_RUNTIME_DIR set to `xdg` (None: unset) for the block."""
    saved = os.environ.get("XDG_RUNTIME_DIR")
    _set_runtime(xdg)
    try:
        yield
    finally:
        _set_runtime(saved)


def _set_runtime(value: str | None) -> None:
    if value is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = value


@functools.lru_cache(maxsize=None)
def paths_for(xdg: str | None, uid: int = UIDS[0]) -> tuple[str, str]:
    """(runtime dir, socket path) as the Python side computes them."""
    from v2m.config import paths

    with runtime_env(xdg), mock.patch.object(os, "getuid", lambda: uid):
        sock = paths.socket_path()
    return str(sock.parent), str(sock)


def ok_world(*recv: object, xdg: str | None = XDG[0], uid: int = UIDS[0]) -> World:
    """Our own private runtime dir and socket; the daemon answers with `recv`."""
    run_dir, sock = paths_for(xdg, uid)
    stats = {run_dir: fake_stat(stat.S_IFDIR | 0o700, uid), sock: fake_stat(stat.S_IFSOCK | 0o600, uid)}
    return World(xdg=xdg, uid=uid, stats=stats, recv=list(recv))


def run_cli(world: World, name: str, log_keys: bool = False, args: list[str] | tuple = ()) -> Outcome:
    """`v2m NAME [ARGS]` through v2m.cli.main, as a keybinding runs it (stderr not a terminal)."""
    from click.testing import CliRunner
    from v2m.cli.main import cli
    from v2m.ipc import client

    real_lstat, real_call = os.lstat, client.call
    notified: list = []
    keys: list = []

    def lstat(path, *args, **kwargs):
        found = world.stats.get(os.fspath(path))
        if isinstance(found, BaseException):
            raise found
        return found if found is not None else real_lstat(path, *args, **kwargs)

    def call(*args, **kwargs):
        data = real_call(*args, **kwargs)
        return KeyLog(data, keys) if log_keys and isinstance(data, dict) else data

    def which(tool, *args, **kwargs):
        return f"{NOTIFY_DIR}/{tool}"

    def run(argv, *args, **kwargs):
        notified.append((os.path.basename(argv[0]), list(argv), kwargs))
        return subprocess.CompletedProcess(argv, 0)

    FakeSocket.world = world
    with runtime_env(world.xdg), mock.patch.object(os, "lstat", lstat), \
            mock.patch.object(os, "getuid", lambda: world.uid), \
            mock.patch.object(socket, "socket", FakeSocket), mock.patch.object(client, "call", call), \
            mock.patch.object(shutil, "which", which), mock.patch.object(subprocess, "run", run):
        result = CliRunner().invoke(cli, [name, *args], catch_exceptions=True)
    clean = result.exception is None or isinstance(result.exception, SystemExit)
    return Outcome(result.stdout, result.stderr, result.exit_code, clean, notified, list(dict.fromkeys(keys)))


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def reply(message: dict) -> bytes:
    from v2m.ipc import protocol

    return protocol.encode_frame(message)


def success(data: object) -> bytes:
    from v2m.ipc import protocol

    return reply(protocol.success(data))
