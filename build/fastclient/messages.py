"""The fast client's messages and checks, read off the Python CLI (see derive.py).

Every message the C client prints on its own (a daemon not running, a
runtime dir or socket it refuses, a timeout, an error reply) becomes a printf
format with numbered arguments and its exit code; also which errnos mean "not
running", which mode bits are refused and in what order the checks run, and
how a desktop notification is sent.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import stat
import struct
import subprocess

from cli_probe import NOTIFY_DIR, UIDS, XDG, fake_stat, frame, ok_world, paths_for, reply, run_cli, success
from formats import fill, need, template

STRANGERS = (1999999002, 1999999012)
MODES = (0o1762, 0o722)              # both writable by others
STRERRORS = ("@v2m-strerror-a@", "@v2m-strerror-b@")
ERRORS = ("@v2m-error-a@ \"quoted\" \u00e9", "@v2m-error-b@")
LENGTHS = (4000000001, 3000000001)   # reply lengths over any sane limit
ERRNOS = ("ENOENT", "ENOTDIR", "ECONNREFUSED", "EACCES", "EPERM", "ELOOP", "ENAMETOOLONG",
          "ECONNRESET", "EPROTOTYPE")  # EAGAIN and EINTR are retried by Python: not probed

# Messages the Python CLI does not print cleanly yet (it raises ProtocolError:
# a traceback). Used only while the probe finds no clean message.
FALLBACKS = {
    "TOO_BIG": "v2m: the daemon's reply is too big ({0} bytes; the limit is {limit}); see the daemon log\n",
    "NOT_JSON": "v2m: the daemon sent a reply that is not JSON; see the daemon log\n",
}


def notification(name: str, notes: list, messages: list) -> dict:
    if not notes[0]:
        return {}
    (tool, argv, kwargs), (_, long_argv, _) = notes[0][0], notes[1][0]
    need(argv[0] == f"{NOTIFY_DIR}/{tool}" and argv[-1] == messages[0],
         f"v2m {name}: the notification is {argv}; the fast client runs the tool found on PATH, message last")
    devnull = subprocess.DEVNULL
    need(kwargs.get("stdin") == kwargs.get("stdout") == kwargs.get("stderr") == devnull
         and kwargs.get("start_new_session") is True and set(kwargs) == {"stdin", "stdout", "stderr", "timeout",
                                                                          "start_new_session"},
         f"v2m {name}: the notification runs with {kwargs}; the fast client does not do that")
    limit = len(long_argv[-1]) if len(long_argv[-1]) < len(messages[1]) else 0
    need(long_argv[-1] == messages[1][:limit or None], f"v2m {name}: a long notification is cut oddly")
    return {"tool": tool, "args": argv[1:-1], "timeout_ms": round(kwargs["timeout"] * 1000), "max_chars": limit}






def path_probe(name: str, entry: str, mode_of, owner_of, values_of):
    """A path check: the runtime dir ("dir") or the socket ("sock") gets
    mode_of(v) and owner_of(v); values_of(v, path) are the C arguments."""
    def probe(v: int):
        world = ok_world(success({}), xdg=XDG[v], uid=UIDS[v])
        path = paths_for(XDG[v], UIDS[v])[0 if entry == "dir" else 1]
        world.stats[path] = fake_stat(mode_of(v), owner_of(v))
        return run_cli(world, name), values_of(v, path)
    return probe


def world_probe(name: str, values, change):
    """change(world, v) breaks something; values(v, socket_path) are the C arguments."""
    def probe(v: int):
        world = ok_world(xdg=XDG[v], uid=UIDS[v])
        change(world, v)
        return run_cli(world, name), values(v, paths_for(XDG[v], UIDS[v])[1])
    return probe


def messages_of(name: str, limit: int) -> dict:
    """name -> (printf format, exit code, C arguments), and whether errors are notified."""
    from v2m.domain.errors import V2mError

    m, notes = {}, []
    mine, stranger = (lambda v: UIDS[v]), (lambda v: STRANGERS[v])

    def add(key: str, kinds: str, args: str, probe) -> None:
        fmt, code, outcome = template(f"v2m {name}: message {key}", kinds, probe)
        m[key] = (fmt, code, args)
        notes.append((outcome.stderr, outcome.notified))

    def lstat_error(code: int):
        def change(w, v):
            w.stats[paths_for(XDG[v], UIDS[v])[0]] = OSError(code, STRERRORS[v])
        return change

    add("NOT_RUNNING", "s", "const char *socket_path",
        world_probe(name, lambda v, s: (s,), lstat_error(errno.ENOENT)))
    add("CANNOT_CONNECT", "ss", "const char *socket_path, const char *strerror",
        world_probe(name, lambda v, s: (s, STRERRORS[v]), lstat_error(errno.EACCES)))
    add("REFUSE_SYMLINK", "s", "const char *path",
        path_probe(name, "dir", lambda v: stat.S_IFLNK | 0o777, mine, lambda v, p: (p,)))
    add("REFUSE_NOT_DIR", "s", "const char *path",
        path_probe(name, "dir", lambda v: stat.S_IFREG | 0o700, mine, lambda v, p: (p,)))
    add("REFUSE_NOT_SOCKET", "s", "const char *path",
        path_probe(name, "sock", lambda v: stat.S_IFREG | 0o600, mine, lambda v, p: (p,)))
    add("REFUSE_OWNER", "suu", "const char *path, unsigned owner_uid, unsigned uid",
        path_probe(name, "dir", lambda v: stat.S_IFDIR | 0o700, stranger, lambda v, p: (p, STRANGERS[v], UIDS[v])))
    add("REFUSE_WRITABLE", "so", "const char *path, unsigned mode",
        path_probe(name, "dir", lambda v: stat.S_IFDIR | MODES[v], mine, lambda v, p: (p, MODES[v])))
    add("REFUSE_PEER", "suu", "const char *socket_path, unsigned peer_uid, unsigned uid", world_probe(
        name, lambda v, s: (s, STRANGERS[v], UIDS[v]), lambda w, v: setattr(w, "peer_uid", STRANGERS[v])))
    add("TIMEOUT", "", "void", world_probe(name, lambda v, s: (), lambda w, v: w.recv.append(socket.timeout())))
    add("CLOSED", "", "void", world_probe(name, lambda v, s: (), lambda w, v: None))
    add("ERROR_REPLY", "s", "const char *error", world_probe(
        name, lambda v, s: (ERRORS[v],), lambda w, v: w.recv.append(reply({"status": "error", "error": ERRORS[v]}))))
    add("ERROR_DEFAULT", "", "void",
        world_probe(name, lambda v, s: (), lambda w, v: w.recv.append(reply({"status": "error"}))))
    for key, kinds, args, probe in (
            ("TOO_BIG", "u", "unsigned length", world_probe(
                name, lambda v, s: (LENGTHS[v],), lambda w, v: w.recv.append(struct.pack(">I", LENGTHS[v])))),
            ("NOT_JSON", "", "void", world_probe(
                name, lambda v, s: (), lambda w, v: w.recv.append(frame((b"@v2m-not-json@", b"[1]")[v]))))):
        if probe(0)[0].clean:
            add(key, kinds, args, probe)
        else:  # the Python CLI raises (a traceback): the C client says it its own way
            fallback = FALLBACKS[key].replace("%", "%%").format("%1$u", limit=limit)
            m[key] = (fallback, V2mError.exit_code, args)
    m["NOTIFY_ERRORS"] = error_notes(name, notes)
    m["NOTIFICATION"] = {}
    if m["NOTIFY_ERRORS"][0]:
        long_error = "\u00e9" * 2000
        long_notes = world_probe(name, lambda v, s: (), lambda w, v: w.recv.append(
            reply({"status": "error", "error": long_error})))(0)[0].notified
        prefix = m["NOTIFY_ERRORS"][1]
        shown = [notes[0][0], fill(m["ERROR_REPLY"][0], (long_error,))]
        m["NOTIFICATION"] = notification(name, [notes[0][1], long_notes], [s[len(prefix):-1] for s in shown])
    return m


def error_notes(name: str, notes: list) -> tuple[bool, str]:
    """Whether errors become notifications, and the prefix their messages lose there."""
    sent = [bool(n) for _, n in notes]
    need(all(sent) or not any(sent), f"v2m {name}: some errors are notified and some not: {notes}")
    prefixes = set()
    for stderr, notified in notes if any(sent) else []:
        message = notified[0][1][-1]
        need(len(notified) == 1 and stderr.endswith(message + "\n"),
             f"v2m {name}: notified {notified} for the error {stderr!r}")
        prefixes.add(stderr[:-len(message) - 1])
    need(len(prefixes) <= 1, f"v2m {name}: errors lose different prefixes in notifications: {prefixes}")
    return any(sent), prefixes.pop() if prefixes else ""


def max_reply(name: str) -> int:
    """The largest reply length the Python client waits for; beyond it, it refuses."""
    closed = run_cli(ok_world(), name).stderr  # what an allowed length then EOF prints

    def refused(length: int) -> bool:
        return run_cli(ok_world(struct.pack(">I", length)), name).stderr != closed

    lo, hi = 1, 2**32 - 1
    need(not refused(lo) and refused(hi), f"v2m {name}: cannot find the client's reply size limit")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if refused(mid) else (mid, hi)
    return lo


def check_rules(name: str, m: dict) -> dict:
    """Which errnos mean "not running", which mode bits are refused, and the order of the checks."""
    def render(key: str, *values) -> str:
        return fill(m[key][0], values)

    def stderr_of(change, *recv) -> str:
        world = ok_world(*recv)
        change(world)
        return run_cli(world, name).stderr

    run_dir, sock = paths_for(XDG[0])
    rules: dict = {"LSTAT_NOT_RUNNING": [], "CONNECT_NOT_RUNNING": []}
    for errname, (key, where) in itertools.product(ERRNOS, (("LSTAT_NOT_RUNNING", "lstat"),
                                                            ("CONNECT_NOT_RUNNING", "connect"))):
        error = OSError(getattr(errno, errname), os.strerror(getattr(errno, errname)))
        got = stderr_of(lambda w: w.stats.__setitem__(run_dir, error) if where == "lstat"
                        else setattr(w, "connect_error", error))
        if got == render("NOT_RUNNING", sock):
            rules[key].append(errname)
        else:
            need(got == render("CANNOT_CONNECT", sock, error.strerror),
                 f"v2m {name}: {errname} from {where}() prints {got!r}")
    need(rules["LSTAT_NOT_RUNNING"] and rules["CONNECT_NOT_RUNNING"], f"no errno means 'not running': {rules}")
    eacces = OSError(errno.EACCES, os.strerror(errno.EACCES))
    bits = {}
    for path in (run_dir, sock):
        kind = stat.S_IFDIR if path == run_dir else stat.S_IFSOCK
        bits[path] = sum(1 << b for b in range(12) if stderr_of(
            lambda w: w.stats.__setitem__(path, fake_stat(kind | 0o600 | 1 << b, UIDS[0])), success({}))
            == render("REFUSE_WRITABLE", path, 0o600 | 1 << b))
    need(bits[run_dir] == bits[sock] != 0, f"v2m {name}: refused mode bits differ for directory and socket: {bits}")
    rules["INSECURE_MODES"] = bits[sock]
    checks = [  # (what breaks, the message the C client prints for it)
        (lambda w: setattr(w, "peercred_error", eacces), render("CANNOT_CONNECT", sock, eacces.strerror)),
        (lambda w: setattr(w, "recv", [frame(b"@v2m-truncated@")[:7]]), render("CLOSED")),
        (lambda w: setattr(w, "recv", [reply({"status": "event", "error": ""})]), render("ERROR_DEFAULT")),
        (lambda w: setattr(w, "recv", [reply({"error": None})]), render("ERROR_DEFAULT"))]
    for path, kind in ((run_dir, stat.S_IFDIR), (sock, stat.S_IFSOCK)):  # in this order: symlink, kind, owner, mode
        checks += [
            (lambda w, p=path: w.stats.__setitem__(p, fake_stat(stat.S_IFLNK | 0o777, STRANGERS[0])),
             render("REFUSE_SYMLINK", path)),
            (lambda w, p=path: w.stats.__setitem__(p, fake_stat(stat.S_IFREG | 0o777, STRANGERS[0])),
             render("REFUSE_NOT_DIR" if kind == stat.S_IFDIR else "REFUSE_NOT_SOCKET", path)),
            (lambda w, p=path, k=kind: w.stats.__setitem__(p, fake_stat(k | 0o777, STRANGERS[0])),
             render("REFUSE_OWNER", path, STRANGERS[0], UIDS[0])),
            (lambda w, p=path, k=kind: w.stats.__setitem__(p, fake_stat(k | 0o777, UIDS[0])),
             render("REFUSE_WRITABLE", path, 0o777))]
    for n, (change, expected) in enumerate(checks):
        got = stderr_of(change, frame(b"{}"))
        need(got == expected, f"v2m {name}: check {n} prints {got!r}, the fast client {expected!r}")
    return rules


