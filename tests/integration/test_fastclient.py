"""The C fast client (build/fastclient), the release's `v2m` entry (issue 13, item 9).

Built with AddressSanitizer and UndefinedBehaviorSanitizer, it talks to a stub
daemon that serves fixed reply bytes from a private socket: golden request
frames, JSON escapes, unpaired surrogates, truncated, oversized and invalid
replies, error replies. What it prints, notifies and exits with must equal
what the Python CLI does for the same reply; its header comes from the
Python side (build/fastclient/gen_header.py), and must agree with it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from v2m.domain.errors import DaemonNotRunning
from v2m.ipc import peer_trust, protocol

ROOT = Path(__file__).resolve().parents[2]
FASTCLIENT = ROOT / "build" / "fastclient"
SANITIZE = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-ftrivial-auto-var-init=pattern",  # reading uninitialised stack shows, not zeros
            "-Wall", "-Wextra", "-Werror"]
SANITIZER_ENV = {"ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1",
                 "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
PYTHON_CLI = [sys.executable, "-c", "from v2m.cli.main import main; main()"]
MAX_REPLY = 64 * protocol.MAX_FRAME_BYTES  # the Python client's limit
NOTE_ARGS = ["--app-name=v2m", "--expire-time=8000", "--", "v2m"]  # notify-send's, before the message

# The exact frame each keybinding command sends.
GOLDEN = {
    "toggle": b'\x00\x00\x00\x24{"cmd":"TOGGLE_RECORDING","data":{}}',
    "start": b'\x00\x00\x00\x23{"cmd":"START_RECORDING","data":{}}',
    "stop": b'\x00\x00\x00\x22{"cmd":"STOP_RECORDING","data":{}}',
    "cancel": b'\x00\x00\x00\x24{"cmd":"CANCEL_RECORDING","data":{}}',
    "ping": b'\x00\x00\x00\x18{"cmd":"PING","data":{}}',
    "pause": b'\x00\x00\x00\x20{"cmd":"PAUSE_DAEMON","data":{}}',
    "resume": b'\x00\x00\x00\x21{"cmd":"RESUME_DAEMON","data":{}}',
    "shutdown": b'\x00\x00\x00\x1c{"cmd":"SHUTDOWN","data":{}}',
}



def build(out: Path, *flags: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["bash", str(FASTCLIENT / "build.sh"), str(out), *flags], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0 or not check, done.stderr
    return done


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fastclient") / "v2m"
    done = build(out, *SANITIZE, check=False)
    if done.returncode != 0 and "cannot find" in done.stderr and "san" in done.stderr:
        pytest.fail(f"gcc's sanitizer libraries are missing: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """build.sh with its own flags: -O2 -Wall -Wextra -static -s."""
    out = tmp_path_factory.mktemp("release") / "v2m"
    return out, build(out)


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def ok(data: dict) -> bytes:
    return frame(json.dumps({"status": "success", "data": data, "error": None}).encode())


class StubDaemon:
    """Listens on XDG_RUNTIME_DIR/v2m/v2m.sock (dir 0700, socket 0600); per
    connection, reads one request frame, records it, sends the next reply's
    bytes as they are, and closes."""

    def __init__(self, root: Path) -> None:
        self.xdg = root / "run"
        self.xdg.mkdir(mode=0o700)
        (self.xdg / "v2m").mkdir(mode=0o700)
        self.path = self.xdg / "v2m" / "v2m.sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.replies: queue.Queue[bytes] = queue.Queue()
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    head = self._read(conn, 4)
                    self.requests.append(head + self._read(conn, struct.unpack(">I", head)[0]))
                    conn.sendall(self.replies.get_nowait())
                except (OSError, queue.Empty, struct.error):
                    pass

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()


@pytest.fixture
def stub(tmp_path):
    daemon = StubDaemon(tmp_path)
    yield daemon
    daemon.stop()


@pytest.fixture
def env(tmp_path, stub) -> dict[str, str]:
    """The stub's runtime dir, and a notify-send stand-in that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "notify-send"
    tool.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\037" "$a"; done >> "$V2M_TEST_NOTES"\n'
                    'printf "\\036" >> "$V2M_TEST_NOTES"\n')
    tool.chmod(0o755)
    return {**os.environ, **SANITIZER_ENV, "XDG_RUNTIME_DIR": str(stub.xdg), "LC_ALL": "C.UTF-8",
            "PATH": f"{bin_dir}:{os.environ['PATH']}", "V2M_TEST_NOTES": str(tmp_path / "notes")}


def notes(env: dict) -> list[list[str]]:
    path = Path(env["V2M_TEST_NOTES"])
    if not path.exists():
        return []
    text = path.read_text()
    path.unlink()
    return [call.split("\x1f")[:-1] for call in text.split("\x1e")[:-1]]


def run_c(client: Path, env: dict, *args: str) -> tuple[str, str, int, list]:
    done = subprocess.run([str(client), *args], capture_output=True, timeout=60, env=env)  # (argv: UTF-8)
    stderr = done.stderr.decode("utf-8", "replace")
    assert not any(mark in stderr for mark in SANITIZER_MARKS), stderr
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8"), done.returncode, notes(env)


def run_py(env: dict, *args: str, clean: bool = True) -> tuple[str, str, int, list] | None:
    """The Python CLI's outcome; None if it failed with a traceback (and clean is False)."""
    done = subprocess.run(PYTHON_CLI + list(args), capture_output=True, timeout=60, env=env)
    if b"Traceback" in done.stderr:
        assert not clean, done.stderr.decode()
        return None
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8"), done.returncode, notes(env)


def same_as_python(client: Path, stub: StubDaemon, env: dict, command: str, reply: bytes,
                   until_python_handles_it: tuple | None = None) -> tuple:
    """Both clients get `reply`; their output, exit code and notifications must be the
    same. Where the Python CLI fails with a traceback (a defect of its own, see
    the cases below), the C client must print `until_python_handles_it` instead."""
    stub.replies.put(reply)
    c = run_c(client, env, command)
    stub.replies.put(reply)
    py = run_py(env, command, clean=until_python_handles_it is None)
    assert c == (py if py is not None else until_python_handles_it)
    return c


# ---- requests ----

@pytest.mark.parametrize("command", GOLDEN)
def test_each_command_sends_its_golden_frame(client, stub, env, command):
    stub.replies.put(ok({}))
    assert run_c(client, env, command)[2] == 0
    cmd = json.loads(GOLDEN[command][4:])["cmd"]
    assert stub.requests == [GOLDEN[command]] == [protocol.encode_frame(protocol.request(cmd))]


# ---- replies: what both clients print ----

ESCAPED = rb'a\nb \"q\" back\\slash \u00e9 \ud83d\ude00 \/ tab\t'
UNESCAPED = 'a\nb "q" back\\slash \u00e9 \U0001F600 / tab\t'


@pytest.mark.parametrize("command, key", [("ping", "message"), ("toggle", "transcription")])
def test_json_escapes(client, stub, env, command, key):
    reply = frame(b'{"status":"success","data":{"' + key.encode() + b'":"' + ESCAPED + b'"},"error":null}')
    assert same_as_python(client, stub, env, command, reply) == (UNESCAPED + "\n", "", 0, [])


@pytest.mark.parametrize("command, data", [
    ("toggle", {}), ("toggle", {"state": "recording"}), ("toggle", {"transcription": "", "state": "idle"}),
    ("toggle", {"transcription": "Hello there.", "state": "idle"}), ("toggle", {"cancelled": True, "state": "x"}),
    ("stop", {"transcription": "text", "outputs": {"clipboard": "ok", "typing": "failed: no wtype", "paste": "ok"}}),
    ("stop", {"transcription": "", "outputs": {"clipboard": "no display", "notify": "timed out"}}),
    ("stop", {"transcription": "t", "outputs": {"clipboard": "ok"}}),
    ("start", {"state": "recording", "outputs": {}}), ("cancel", {"cancelled": 1, "state": "idle"}),
    ("stop", {"transcription": "t", "outputs": {"typing": None, "clipboard": False, "paste": 2, "x\u0000y": "ok"}}),
    ("ping", {}), ("ping", {"message": "PONG"}), ("ping", {"message": "a\u0000b"}), ("pause", {"state": "paused"}),
    ("pause", {}),
    ("resume", {"state": "idle"}), ("shutdown", {"message": "bye"}),
])
def test_replies_print_as_in_python(client, stub, env, command, data):
    same_as_python(client, stub, env, command, ok(data))


def test_a_long_failure_notification_is_cut_as_in_python(client, stub, env):
    out = same_as_python(client, stub, env, "stop", ok({"transcription": "t", "outputs": {"typing": "\u00e9" * 900}}))
    assert out[2] == 3 and len(out[3][0][-1]) == 500


@pytest.mark.parametrize("reply", [
    {"status": "error", "error": "no speech detected; speak after `v2m toggle`", "data": {}},
    {"status": "error", "error": "line\none \"q\" \u00e9 %s %n"},
    {"status": "error", "error": None}, {"status": "error", "error": ""}, {"status": "event", "data": {}},
    {"data": {"message": "PONG"}},
])
@pytest.mark.parametrize("command", ["toggle", "ping"])
def test_error_replies_as_in_python(client, stub, env, reply, command):
    out = same_as_python(client, stub, env, command, frame(json.dumps(reply).encode()))
    assert out[2] == 1 and out[1].startswith("v2m: ") and out[0] == ""
    assert bool(out[3]) == (command == "toggle")  # keybinding errors also go to the desktop


def test_json_that_python_accepts(client, stub, env):
    payload = (b' { "data" : {"x": [NaN, -Infinity, 1e5, -0.5E-3, true, null, {"a": []}], "message": "a",'
               b' "message": "\\u00e9 last wins"}, "status": "success", "error": null } ')
    protocol.decode_payload(payload)  # valid for Python
    assert same_as_python(client, stub, env, "ping", frame(payload))[0] == "\u00e9 last wins\n"


@pytest.mark.parametrize("situation", ["no dir", "no socket", "stale socket", "dir open", "not a socket",
                                       "symlink", "dir is a file", "odd spelling", "odder spelling"])
def test_messages_for_a_missing_or_untrusted_daemon_as_in_python(client, release, tmp_path, env, situation):
    run = tmp_path / "other"
    run.mkdir(mode=0o700)
    sock = run / "v2m" / "v2m.sock"
    env = {**env, "XDG_RUNTIME_DIR": str(run)}
    if situation.endswith("spelling"):  # the Python client shows the path as pathlib spells it
        env["XDG_RUNTIME_DIR"] = f"{tmp_path}//other/./" if situation == "odd spelling" else f"{tmp_path}/./other//"
    if situation == "dir is a file":
        (run / "v2m").write_text("")
    elif situation != "no dir":
        (run / "v2m").mkdir(mode=0o700)
    if situation in ("stale socket", "dir open", "symlink"):
        socket.socket(socket.AF_UNIX).bind(str(sock))  # bound, never listening: ECONNREFUSED
        os.chmod(sock, 0o600)
    if situation == "dir open":
        os.chmod(run / "v2m", 0o770)
    if situation == "not a socket":
        sock.write_text("")
        os.chmod(sock, 0o600)
    if situation == "symlink":
        sock.rename(run / "v2m" / "elsewhere")
        sock.symlink_to(run / "v2m" / "elsewhere")
    for command in ("ping", "toggle"):
        c = run_c(client, env, command)
        assert c == run_py(env, command) == run_c(release[0], env, command) and c[2] == 1 and c[0] == ""
    if situation in ("no dir", "no socket", "stale socket") or situation.endswith("spelling"):
        assert c[1] == f"v2m: {DaemonNotRunning(str(sock))}\n"
        assert c[3] == [NOTE_ARGS + [str(DaemonNotRunning(str(sock)))]]
    else:
        assert c[1].startswith("v2m: refusing ") and peer_trust.HINT in c[1]


def test_a_truncated_reply_is_a_closed_connection_as_in_python(client, stub, env):
    for reply in (frame(b'{"status":"success","data":{}}')[:20], b"\x00\x00"):
        out = same_as_python(client, stub, env, "ping", reply)
        assert out[:3] == ("", "v2m: the daemon closed the connection; see the daemon log\n", 1)


# ---- replies the Python CLI does not handle cleanly yet (it raises: a traceback) ----

@pytest.mark.parametrize("length", [MAX_REPLY + 1, 2**32 - 1])
def test_an_oversized_reply_is_reported_as_too_big(client, stub, env, length):
    message = f"the daemon's reply is too big ({length} bytes; the limit is {MAX_REPLY}); see the daemon log"
    out, err, code, notified = same_as_python(client, stub, env, "toggle", struct.pack(">I", length),
                                              ("", f"v2m: {message}\n", 1, [NOTE_ARGS + [message]]))
    assert "too big" in err and str(length) in err and "closed the connection" not in err


def test_a_reply_of_the_largest_size_is_read(client, stub, env):
    head, tail = b'{"status":"success","data":{"message":"', b'"},"error":null}'
    text = b"x" * (MAX_REPLY - len(head) - len(tail))
    stub.replies.put(frame(head + text + tail))
    out, err, code, _ = run_c(client, env, "ping")
    assert (len(out), err, code) == (len(text) + 1, "", 0)


@pytest.mark.parametrize("payload", [
    b"nope", b"", b"[1]", b'"text"', b'{"status":"success"', b'{"status":"success"} x', b'{"a":}', b'{"a" 1}',
    b'{"a":1,}', b'{"status":"success","data":{"message":"\x01"}}', b'{"a":"\\x"}', b'{"a":"\\u12G4"}',
    b'\xff{}', b'{"a":"\xed\xa0\x80"}', b'{"a":01}', b'{"a":1.}', b'{"a":tru}', b'{"a":"open}',
    b"[" * 100 + b"]" * 99,
])
def test_invalid_json_is_not_json(client, stub, env, payload):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_payload(payload)  # Python refuses it too
    stub.replies.put(frame(payload))
    out, err, code, _ = run_c(client, env, "ping")
    assert (out, err, code) == ("", "v2m: the daemon sent a reply that is not JSON; see the daemon log\n", 1)


def test_invalid_json_as_in_python_once_it_handles_it(client, stub, env):
    message = "the daemon sent a reply that is not JSON; see the daemon log"
    same_as_python(client, stub, env, "toggle", frame(b"nope"), ("", f"v2m: {message}\n", 1, [NOTE_ARGS + [message]]))


@pytest.mark.parametrize("escaped, shown", [
    (rb"\ud800\u0041", "\ufffdA"), (rb"x\udc00y", "x\ufffdy"), (rb"end\ud800", "end\ufffd"),
    (rb"\ud800\ud83d\ude00", "\ufffd\U0001F600"), (rb"\udbff\udfff", "\U0010FFFF"), (rb"\ud800\\", "\ufffd\\"),
])
def test_unpaired_surrogates_become_replacement_characters(client, stub, env, escaped, shown):
    # json.loads keeps a lone surrogate, which stdout cannot encode: U+FFFD stands in for it.
    reply = frame(b'{"status":"success","data":{"message":"' + escaped + b'"}}')
    same_as_python(client, stub, env, "ping", reply, (shown + "\n", "", 0, []))


# ---- the one option: toggle and start --language LANG (a key per language) ----

@pytest.mark.parametrize("command", ["toggle", "start"])
@pytest.mark.parametrize("args, value", [(["--language", "es"], "es"), (["--language=Spanish"], "Spanish"),
                                         (["--language", "zh-Hant"], "zh-Hant"), (["--language", "auto"], "auto"),
                                         (["--language", "a_b c-9" + "x" * 57], "a_b c-9" + "x" * 57)])
def test_the_language_option_sends_what_python_sends(client, stub, env, command, args, value):
    reply = ok({"transcription": "Hola.", "state": "idle", "outputs": {"clipboard": "no display"}})
    stub.replies.put(reply)
    c = run_c(client, env, command, *args)
    stub.replies.put(reply)
    assert c == run_py(env, command, *args) and c[0] == "Hola.\n" and c[2] == 3
    cmd = json.loads(GOLDEN[command][4:])["cmd"]
    assert stub.requests == [protocol.encode_frame(protocol.request(cmd, {"language": value}))] * 2


@pytest.mark.parametrize("args", [
    ["toggle", "--language", "espa\u00f1ol"], ["toggle", "--language", ""], ["toggle", "--language=-x"],
    ["toggle", "--language", 'a"b'], ["toggle", "--language", "a\\b"], ["toggle", "--language", "x" * 65],
    ["toggle", "--language", "1es"], ["toggle", "--language"], ["toggle", "--lang", "es"], ["toggle", "--language="],
    ["toggle", "--language", "es", "--language", "de"], ["start", "es"], ["stop", "--language", "es"],
    ["ping", "--language", "es"], ["toggle", "--language", "es", "extra"],
])
def test_any_other_option_or_value_goes_to_the_python_app(client, tmp_path, env, args):
    folder = tmp_path / "dist"
    folder.mkdir()
    shutil.copy(client, folder / "v2m")
    app = folder / "v2m-app"
    app.write_text('#!/bin/sh\nprintf "%s|" "$0" "$@"\n')
    app.chmod(0o755)
    out = run_c(folder / "v2m", env, *args)
    assert out[:3] == ("|".join([str(app), *args]) + "|", "", 0)


# ---- everything else goes to the Python app ----

def test_other_commands_exec_the_python_app(client, tmp_path, env):
    folder = tmp_path / "dist"
    folder.mkdir()
    shutil.copy(client, folder / "v2m")
    app = folder / "v2m-app"
    app.write_text('#!/bin/sh\nprintf "%s|" "$0" "$@"\n')
    app.chmod(0o755)
    for args in (["status", "--json"], ["toggle", "extra"], [], ["--help"], ["ping", "-h"]):
        out = run_c(folder / "v2m", env, *args)
        assert out[:3] == ("|".join([str(app), *args]) + "|", "", 0)


# ---- the release build ----

def test_the_release_build_is_static_and_quiet(release, stub, env):
    out, done = release
    assert done.stdout == done.stderr == ""  # no warnings
    elf = out.read_bytes()
    phoff, (phentsize, phnum) = struct.unpack_from("<Q", elf, 0x20)[0], struct.unpack_from("<HH", elf, 0x36)
    types = [struct.unpack_from("<I", elf, phoff + i * phentsize)[0] for i in range(phnum)]
    assert 3 not in types and 2 not in types  # no PT_INTERP, no PT_DYNAMIC: static
    stub.replies.put(ok({"message": "PONG"}))
    assert run_c(out, env, "ping")[:3] == ("PONG\n", "", 0)


def test_the_header_agrees_with_the_python_side(tmp_path):
    sys.path.insert(0, str(FASTCLIENT))
    try:
        import derive
        import gen_header
    finally:
        sys.path.remove(str(FASTCLIENT))
    from v2m.cli import control
    from v2m.ipc import client

    found = derive.derive()
    written = tmp_path / "v2m_generated.h"
    subprocess.run([sys.executable, str(FASTCLIENT / "gen_header.py"), str(written)], check=True, timeout=300)
    assert written.read_text() == gen_header.header(found)  # the same every time
    commands = {c["name"]: c for c in found["commands"]}
    assert {name: c["request"] for name, c in commands.items()} == GOLDEN
    default_timeout = client.call.__kwdefaults__["timeout_s"]
    for name, c in commands.items():
        recording = name in ("toggle", "start", "stop", "cancel")
        assert c["timeout_ms"] == 1000 * (control.RECORDING_TIMEOUT_S if recording else default_timeout)
        assert (c["outputs_key"] == "outputs") == recording
        # the option keeps toggle and start on the fast path
        assert (c["option"] is not None) == (name in ("toggle", "start"))
        if c["option"]:
            cmd = json.loads(GOLDEN[name][4:])["cmd"]
            assert c["option"]["head"] + b"es" + c["option"]["tail"] == \
                protocol.encode_frame(protocol.request(cmd, {"language": "es"}))[4:]
    assert found["max_reply_bytes"] == MAX_REPLY
    fmt, code, _ = found["messages"]["NOT_RUNNING"]
    assert derive.fill(fmt, ("/x/v2m.sock",)) == f"v2m: {DaemonNotRunning('/x/v2m.sock')}\n" and code == 1
    for key in ("REFUSE_SYMLINK", "REFUSE_NOT_DIR", "REFUSE_NOT_SOCKET", "REFUSE_OWNER", "REFUSE_WRITABLE",
                "REFUSE_PEER"):
        assert found["messages"][key][0].endswith(f"; {peer_trust.HINT}\n")
    assert found["checks"]["INSECURE_MODES"] == 0o022
    assert found["notify"]["tool"] == "notify-send" and found["error_prefix"] == "v2m: "


def test_the_header_follows_the_python_side(monkeypatch):
    sys.path.insert(0, str(FASTCLIENT))
    try:
        import derive
    finally:
        sys.path.remove(str(FASTCLIENT))
    monkeypatch.setattr(peer_trust, "HINT", "a new hint, 100% different")
    formats = derive.messages_of("ping", MAX_REPLY)
    assert formats["REFUSE_SYMLINK"][0] == "v2m: refusing %1$s: it is a symbolic link; a new hint, 100%% different\n"


def test_the_generator_fails_loudly_when_the_c_client_cannot_follow(monkeypatch):
    import click

    from v2m.cli import control

    sys.path.insert(0, str(FASTCLIENT))
    try:
        import derive
    finally:
        sys.path.remove(str(FASTCLIENT))

    @click.command(name="ping")
    def ping() -> None:
        data = control.client.call("PING") or {}
        click.echo(data.get("message", "PONG"))
        click.echo(data.get("version", "?"))  # two lines: not something v2m.c can print

    monkeypatch.setattr(control, "ping", ping)
    with pytest.raises(derive.GenerationError, match="v2m ping"):
        derive.probe_command("ping")


def test_the_generator_fails_loudly_when_the_language_option_changes(monkeypatch):
    import click

    from v2m.cli import control

    sys.path.insert(0, str(FASTCLIENT))
    try:
        import derive
    finally:
        sys.path.remove(str(FASTCLIENT))

    @click.command(name="toggle")
    @click.option("--language", "-l", default=None)  # a short spelling v2m.c does not know
    def toggle(language) -> None:
        control.client.call("TOGGLE_RECORDING", {"language": language} if language else None)

    monkeypatch.setattr(control, "toggle", toggle)
    with pytest.raises(derive.GenerationError, match="v2m toggle: its --language option"):
        derive.keybinding_commands()
