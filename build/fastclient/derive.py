"""Read the C fast client's behaviour off the Python CLI (see gen_header.py).

Each function here runs the real CLI through cli_probe and turns what it
sends, prints, notifies and exits with into data for v2m.c: the keybinding
commands and their reply rules, the messages as printf formats, the path
checks, the socket path rule. Whatever v2m.c cannot follow raises
GenerationError, saying what changed.
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_probe import ERR, OUT, UIDS, XDG, Outcome, ok_world, paths_for, run_cli, success  # noqa: E402
from formats import LEFTOVER, GenerationError, fill, format_of, need  # noqa: E402,F401
from messages import check_rules, max_reply, messages_of, notification  # noqa: E402,F401
import options  # noqa: E402

TEXT, FLAG, VALUE, CONST = "V2M_RULE_TEXT", "V2M_RULE_FLAG", "V2M_RULE_VALUE", "V2M_RULE_CONST"
ABSENT = object()
OK_RESULT = "ok"                     # an outputs entry that did not fail (checked, not read)


# ---- the commands and how they print replies ----

def keybinding_commands() -> list[str]:
    from v2m.cli import main

    # Commands without options, and those whose one option is the one the fast client sends (options.py).
    names = []
    for name, (module, attr, _) in main.COMMANDS.items():
        command = getattr(importlib.import_module(module), attr) if module == "v2m.cli.control" else None
        if command is not None and options.follows(command) is not None:
            names.append(name)
        elif command is not None:
            need(all(p.name != options.NAME for p in command.params),
                 f"v2m {name}: its {options.FLAG} option is not the plain one options.py follows, so the "
                 f"key would lose the fast client; keep it one string value with no default, or change options.py")
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
    from v2m.cli import main
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
    command = getattr(importlib.import_module("v2m.cli.control"), main.COMMANDS[name][1])
    option = options.probe_option(name, bytes(world.sent), world.timeouts) if options.follows(command) else None
    return {"name": name, "request": bytes(world.sent),
            "timeout_ms": 0 if timeout is None else round(timeout * 1000),
            "rules": infer_rules(name, [k for k in base.keys if k not in outputs], base),
            "outputs_key": outputs[0] if outputs else None, "option": option}


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
