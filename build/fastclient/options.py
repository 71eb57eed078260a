"""The one option the fast client sends itself: `--language LANG` on the
commands that start a dictation (`v2m toggle --language es`, a key per
language), so that those keys keep the fast path.

The request is read off the Python CLI: the frame it sends for a sentinel
value, cut around the value into a head and a tail, and checked on other
values and on both spellings (`--language es`, `--language=es`). v2m.c sends
head + value + tail itself only for a plain value (PLAIN below, as
plain_value() there checks it: its JSON is the value between quotes); any
other value, or any other argument, goes to the Python app.
"""

from __future__ import annotations

import json
import re

import click

from cli_probe import ok_world, reply, run_cli, success
from formats import need

NAME = "language"
FLAG = "--language"
MAX_CHARS = 64
# Keep in step with plain_value() in v2m.c.
PLAIN = re.compile(rf"[A-Za-z][A-Za-z0-9 _-]{{0,{MAX_CHARS - 1}}}")
SAMPLES = ("Xv2mSentinelA", "b v2m-sentinel_2", "es", "Spanish", "zh-Hant", "auto", "a" * MAX_CHARS)
REPLIES = ({}, {"state": "recording"}, {"transcription": "Hola.", "state": "idle", "outputs": {"clipboard": "x"}})


def follows(command: click.Command) -> bool | None:
    """True: the command's one parameter is the option the fast client sends;
    False: it has none; None: it has others (the Python app runs it)."""
    if not command.params:
        return False
    if len(command.params) != 1:
        return None
    p = command.params[0]
    plain = (isinstance(p, click.Option) and p.name == NAME and p.opts == [FLAG] and not p.secondary_opts
             and not p.is_flag and not p.multiple and p.nargs == 1 and p.type is click.STRING
             and p.to_info_dict()["default"] is None and not p.required and p.envvar is None)
    return True if plain else None


def probe_option(name: str, base_request: bytes, base_timeouts: list) -> dict:
    """head and tail of the request payload around the value, checked on SAMPLES."""
    sentinel = SAMPLES[0]
    frames = {}
    for value in SAMPLES:
        need(PLAIN.fullmatch(value) and json.dumps(value, ensure_ascii=False) == f'"{value}"',
             f"options.SAMPLES: {value!r} is not a plain value")
        for args in ([FLAG, value], [f"{FLAG}={value}"]):
            world = ok_world(success({}))
            o = run_cli(world, name, args=args)
            need(o.clean and o.code == 0 and world.timeouts == base_timeouts,
                 f"v2m {name} {' '.join(args)}: {o}, timeouts {world.timeouts}")
            frames[value, args[0]] = bytes(world.sent)
    payload = frames[sentinel, FLAG][4:]
    need(payload.count(sentinel.encode()) == 1, f"v2m {name} {FLAG}: sends {payload!r}")
    head, tail = payload.split(sentinel.encode())
    for (value, _), sent in frames.items():
        body = head + value.encode() + tail
        need(sent == len(body).to_bytes(4, "big") + body,
             f"v2m {name} {FLAG} {value}: sends {sent!r}; the fast client would send {body!r}")
    need(base_request != frames[sentinel, FLAG], f"v2m {name}: {FLAG} changes nothing in the request")
    for data in REPLIES:  # the option changes the request only, not how the reply is shown
        shown = [run_cli(ok_world(success(data)), name, args=args) for args in ([], [FLAG, sentinel])]
        need(shown[0] == shown[1], f"v2m {name} {FLAG}: shows {shown[1]} for {data}, without it {shown[0]}")
    error = [run_cli(ok_world(reply({"status": "error", "error": "x"})), name, args=args)
             for args in ([], [FLAG, sentinel])]
    need(error[0] == error[1], f"v2m {name} {FLAG}: an error reply shows {error[1]}, without it {error[0]}")
    return {"flag": FLAG, "head": head, "tail": tail}
