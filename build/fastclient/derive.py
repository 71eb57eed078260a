"""Read the C fast client's behaviour off the Python CLI (see gen_header.py).

Each function here runs the real CLI through cli_probe and turns what it
sends, prints, notifies and exits with into data for v2m.c: the keybinding
commands and their reply rules, the messages as printf formats, the path
checks, the socket path rule. Whatever v2m.c cannot follow raises
GenerationError, saying what changed.
"""

from __future__ import annotations

import errno
import importlib
import itertools
import os
import re
import socket
import stat
import struct
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_probe import ERR, NOTIFY_DIR, OUT, UIDS, XDG, Outcome, fake_stat, frame, ok_world, paths_for, reply, \
    run_cli, success  # noqa: E402
from formats import LEFTOVER, GenerationError, fill, format_of, need, template  # noqa: E402,F401

STRANGERS = (1999999002, 1999999012)
MODES = (0o1762, 0o722)              # both writable by others
STRERRORS = ("@v2m-strerror-a@", "@v2m-strerror-b@")
ERRORS = ("@v2m-error-a@ \"quoted\" \u00e9", "@v2m-error-b@")
LENGTHS = (4000000001, 3000000001)   # reply lengths over any sane limit
ERRNOS = ("ENOENT", "ENOTDIR", "ECONNREFUSED", "EACCES", "EPERM", "ELOOP", "ENAMETOOLONG",
          "ECONNRESET", "EPROTOTYPE")  # EAGAIN and EINTR are retried by Python: not probed
TEXT, FLAG, VALUE, CONST = "V2M_RULE_TEXT", "V2M_RULE_FLAG", "V2M_RULE_VALUE", "V2M_RULE_CONST"
ABSENT = object()
OK_RESULT = "ok"                     # an outputs entry that did not fail (checked, not read)

# Messages the Python CLI does not print cleanly yet (it raises ProtocolError:
# a traceback). Used only while the probe finds no clean message.
FALLBACKS = {
    "TOO_BIG": "v2m: the daemon's reply is too big ({0} bytes; the limit is {limit}); see the daemon log\n",
    "NOT_JSON": "v2m: the daemon sent a reply that is not JSON; see the daemon log\n",
}


# ---- the commands and how they print replies ----

def keybinding_commands() -> list[str]:
    from v2m.cli import main

    names = [name for name, (module, attr, _) in main.COMMANDS.items()
             if module == "v2m.cli.control" and not getattr(importlib.import_module(module), attr).params]
    need(names, "no keybinding commands found in v2m.cli.main.COMMANDS (module v2m.cli.control)")
    return names


def data_run(name: str, data: dict, log_keys: bool = False) -> Outcome:
    return run_cli(ok_world(success(data)), name, log_keys)


def one_line(o: Outcome, what: str) -> tuple[int, str]:
    found = o.line()
    need(o.clean and o.code == 0 and found and not o.notified, f"{what}: expected one line of output, got {o}")
    return found


def infer_rules(name: str, keys: list, base: Outcome) -> list[dict]:
    """The rules that print a reply's data; see print_data() in v2m.c."""
    base_line, rules = one_line(base, f"v2m {name}, empty data"), []
    for key in keys:
        marked = data_run(name, {key: "@v2m-x@"})
        stream, text = one_line(marked, f"v2m {name}, data {{{key!r}: ...}}")
        if "@v2m-x@" in text:
            need(text.endswith("@v2m-x@"), f"v2m {name}: prints {text!r} for {key}; the value must end the line")
            prefix = text[:-len("@v2m-x@")]
            if one_line(data_run(name, {key: ""}), f"v2m {name}") == (stream, prefix):
                need(base_line[0] == stream and base_line[1].startswith(prefix),
                     f"v2m {name}: without {key!r} prints {base_line}, not a default after {prefix!r}")
                rules.append({"kind": VALUE, "key": key, "stream": stream, "prefix": prefix,
                              "text": base_line[1][len(prefix):]})
                need(key == keys[-1], f"v2m {name}: reads {keys[keys.index(key) + 1:]} after its last word")
                return rules
            rules.append({"kind": TEXT, "key": key, "stream": stream, "prefix": prefix, "text": ""})
        else:
            need((stream, text) != base_line and one_line(data_run(name, {key: True}), name) == (stream, text)
                 and one_line(data_run(name, {key: False}), name) == base_line,
                 f"v2m {name}: cannot tell what reply key {key!r} does")
            rules.append({"kind": FLAG, "key": key, "stream": stream, "prefix": "", "text": text})
    rules.append({"kind": CONST, "key": None, "stream": base_line[0], "prefix": "", "text": base_line[1]})
    return rules


def probe_command(name: str) -> dict:
    from v2m.ipc import protocol

    world = ok_world(success({}))
    base = run_cli(world, name, log_keys=True)
    need(base.clean and base.code == 0, f"v2m {name}: a success reply with no data fails: {base}")
    decoder = protocol.FrameDecoder()
    frames = decoder.feed(bytes(world.sent))
    need(len(frames) == 1 and decoder.pending == 0,
         f"v2m {name}: sends {bytes(world.sent)!r}; the fast client sends one whole frame")
    need(len(set(world.timeouts)) == 1, f"v2m {name}: timeouts {world.timeouts}; expected one")
    need(all(isinstance(k, str) for k in base.keys), f"v2m {name}: reads reply keys {base.keys}")
    outputs = [k for k in base.keys if data_run(name, {k: {"@v2m-n@": "@v2m-r@"}}).code != 0]
    need(len(outputs) <= 1, f"v2m {name}: several keys {outputs} report failed outputs")
    timeout = world.timeouts[0]
    return {"name": name, "request": bytes(world.sent),
            "timeout_ms": 0 if timeout is None else round(timeout * 1000),
            "rules": infer_rules(name, [k for k in base.keys if k not in outputs], base),
            "outputs_key": outputs[0] if outputs else None}


def outputs_report(name: str, key: str) -> tuple[dict, dict]:
    """How failed outputs are reported, and how notifications are sent."""
    data = {key: {"@v2m-n1@": "@v2m-r1@", "@v2m-n2@": OK_RESULT, "@v2m-n3@": "@v2m-r3@"}}
    o, base = data_run(name, data), data_run(name, {})
    need(o.clean and o.code not in (0, base.code) and data_run(name, {key: {"@v2m-n2@": OK_RESULT}}).code == 0,
         f"v2m {name}: an outputs entry {OK_RESULT!r} must pass and others fail; got {o}")
    stream = OUT if "@v2m-n1@" in o.stdout else ERR
    text = o.stdout if stream == OUT else o.stderr
    before = base.stdout if stream == OUT else base.stderr
    need(text.startswith(before), f"v2m {name}: the outputs report must follow the usual line: {o}")
    m = re.fullmatch(r"(.*)@v2m-n1@(.*)@v2m-r1@(.*)@v2m-n3@(.*)@v2m-r3@(.*)\n", text[len(before):])
    need(m and m[2] == m[4] and "@v2m-n2@" not in text and not LEFTOVER.search("".join(m.groups())),
         f"v2m {name}: cannot read the outputs report {text!r}")
    report = {"stream": stream, "prefix": m[1], "between": m[2], "sep": m[3], "suffix": m[5], "exit": o.code,
              "ok": OK_RESULT, "notify": bool(o.notified)}
    message = text[len(before) + len(m[1]):-1]
    long_data = {key: {"@v2m-n1@": "\u00e9" * 2000}}
    notes = [o.notified, data_run(name, long_data).notified]
    need(all(len(n) == 1 for n in notes) or not any(notes), f"v2m {name}: notifications {notes}")
    return report, notification(name, notes, [message, "@v2m-n1@" + m[2] + "\u00e9" * 2000 + m[5]])


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


def predict(c: dict, report: dict, max_chars: int, data: dict) -> tuple[str, str, int, list]:
    """What v2m.c prints, exits with and notifies for a success reply carrying
    `data` (keep in step with print_data() and report_outputs())."""
    out = {OUT: "", ERR: ""}
    for r in c["rules"]:
        value = data.get(r["key"]) if r["key"] else None
        if r["kind"] == TEXT and isinstance(value, str) and value or r["kind"] == FLAG and value:
            out[r["stream"]] += r["prefix"] + (value if r["kind"] == TEXT else r["text"]) + "\n"
            break
        if r["kind"] in (VALUE, CONST):
            out[r["stream"]] += r["prefix"] + (value if isinstance(value, str) else r["text"]) + "\n"
            break
    outputs = data.get(c["outputs_key"]) if c["outputs_key"] else None
    failed = [f"{n}{report['between']}{v}" for n, v in (outputs or {}).items() if v != report["ok"]]
    if not failed:
        return out[OUT], out[ERR], 0, []
    message = report["sep"].join(failed) + report["suffix"]
    out[report["stream"]] += report["prefix"] + message + "\n"
    return out[OUT], out[ERR], report["exit"], [message[:max_chars or None]] if report["notify"] else []


def verify(c: dict, report: dict, max_chars: int) -> None:
    """The rules must print what the Python CLI prints, for each reply key alone and in pairs."""
    # (no null for VALUE: Python prints it as "None" or "", by command; the C client prints the default)
    samples = {TEXT: [None, "", "@v2m-s@ \u00e9\n\"\\"], VALUE: ["", "@v2m-s@ \u00e9"],
               FLAG: [None, True, False, 0, 1, "", "x", [], {"a": 0}]}
    keys = {r["key"]: samples[r["kind"]] for r in c["rules"] if r["key"]}
    if c["outputs_key"]:
        keys[c["outputs_key"]] = [None, {}, {"a": OK_RESULT}, {"n1": "r1", "n2": OK_RESULT, "n3": "r3 \u00e9"}]
    for (k1, s1), (k2, s2) in itertools.combinations_with_replacement(keys.items(), 2):
        for v1, v2 in itertools.product(s1 + [ABSENT], s2 + [ABSENT] if k2 != k1 else [ABSENT]):
            data = {k: v for k, v in ((k1, v1), (k2, v2)) if v is not ABSENT}
            o = data_run(c["name"], data, log_keys=bool(data))  # (a KeyLog is never empty)
            shown = (o.stdout, o.stderr, o.code, [argv[-1] for _, argv, _ in o.notified])
            need(o.clean and shown == predict(c, report, max_chars, data) and set(o.keys) <= set(keys),
                 f"v2m {c['name']}: prints {o} for data {data}; the fast client would print "
                 f"{predict(c, report, max_chars, data)}")


# ---- messages ----

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


def socket_path_rule() -> dict:
    rule = {"XDG": format_of("socket path", "s", *((paths_for(XDG[v])[1], (XDG[v],)) for v in (0, 1))),
            "FALLBACK": format_of("socket path without XDG_RUNTIME_DIR", "u",
                                  *((paths_for(None, UIDS[v])[1], (UIDS[v],)) for v in (0, 1)))}
    for value in ("", "relative/dir", "./x", "/abs"):  # v2m.c: set and starting with "/"
        uses_xdg = paths_for(value)[1] != paths_for(None)[1]
        need(uses_xdg == value.startswith("/"),
             f"XDG_RUNTIME_DIR={value!r}: the Python rule for using it changed; update socket_path() in v2m.c")
    return rule


def protocol_keys() -> dict:
    from v2m.ipc import protocol

    ok, bad = protocol.success({"@v2m@": 1}), protocol.error("@v2m-error@")
    status = [k for k, v in ok.items() if v == "success"]
    data = [k for k, v in ok.items() if v == {"@v2m@": 1}]
    error = [k for k, v in bad.items() if v == "@v2m-error@"]
    need(len(status) == len(data) == len(error) == 1, f"replies look different now: {ok}, {bad}")
    return {"KEY_STATUS": status[0], "STATUS_SUCCESS": ok[status[0]], "KEY_DATA": data[0], "KEY_ERROR": error[0]}


def derive() -> dict:
    """Everything the C client needs, read off the Python CLI."""
    names = keybinding_commands()
    commands = [probe_command(name) for name in names]
    limit = max_reply(names[0])
    messages = messages_of(names[0], limit)
    notify_errors = {names[0]: messages.pop("NOTIFY_ERRORS")}
    notifications = [messages.pop("NOTIFICATION")]
    for name in names[1:]:
        theirs = messages_of(name, limit)
        notify_errors[name] = theirs.pop("NOTIFY_ERRORS")
        notifications.append(theirs.pop("NOTIFICATION"))
        need(theirs == messages, f"v2m {name}: its messages differ from v2m {names[0]}'s; the fast client has one set")
    checks = check_rules(names[0], messages)
    reports = {}
    for c in commands:
        if c["outputs_key"]:
            report, note = outputs_report(c["name"], c["outputs_key"])
            reports[json_key(report)] = report
            notifications.append(note)
    need(len(reports) <= 1, f"commands report failed outputs differently: {list(reports.values())}")
    notifications = {json_key(n): n for n in notifications if n}
    need(len(notifications) <= 1, f"notifications are sent in different ways: {list(notifications.values())}")
    prefixes = {p for notify, p in notify_errors.values() if notify}
    need(len(prefixes) <= 1, f"error notifications differ: {notify_errors}")
    report = next(iter(reports.values()), {"stream": ERR, "prefix": "", "between": "", "sep": "", "suffix": "",
                                           "exit": 0, "ok": OK_RESULT, "notify": False})
    note = next(iter(notifications.values()), {"tool": None, "args": [], "timeout_ms": 0, "max_chars": 0})
    for c in commands:
        verify(c, report, note["max_chars"])
        c["notify_errors"] = notify_errors[c["name"]][0]
    return {"commands": commands, "messages": messages, "checks": checks, "max_reply_bytes": limit,
            "outputs": report, "notify": note, "error_prefix": prefixes.pop() if prefixes else "",
            "protocol": protocol_keys(), "socket_path": socket_path_rule()}


def json_key(value: dict) -> str:
    return repr(sorted(value.items()))
