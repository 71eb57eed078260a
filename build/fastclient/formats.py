"""Messages as printf formats: a message the Python CLI printed with sentinel
values becomes a format with numbered arguments (%1$s, %2$u, %3$04o), checked
by rendering a second set of values. See derive.py.
"""

from __future__ import annotations

import itertools
import re

from cli_probe import Outcome

LEFTOVER = re.compile(r"@v2m-|19999990")   # a sentinel left in the literal text
CONVERSIONS = {"s": ["s"], "u": ["u"], "o": ["04o", "o", "03o", "#o"]}


class GenerationError(Exception):
    pass


def need(condition: object, message: str) -> None:
    if not condition:
        raise GenerationError(message)


def build_format(text: str, values: tuple, convs: tuple) -> str | None:
    work = text
    for i in sorted(range(len(values)), key=lambda i: -len(f"%{convs[i]}" % values[i])):
        rendered = f"%{convs[i]}" % values[i]
        if rendered not in work:
            return None
        work = work.replace(rendered, f"\0{i}\0")
    parts = work.split("\0")
    if any(LEFTOVER.search(p) for p in parts[::2]):
        return None
    return "".join(f"%{int(p) + 1}${convs[int(p)]}" if k % 2 else p.replace("%", "%%")
                   for k, p in enumerate(parts))


def fill(fmt: str, values: tuple) -> str:
    def one(m: re.Match) -> str:
        return "%" if m.group(0) == "%%" else f"%{m.group(2)}" % values[int(m.group(1)) - 1]
    return re.sub(r"%%|%(\d+)\$([^a-zA-Z%]*[a-zA-Z])", one, fmt)


def format_of(what: str, kinds: str, first: tuple, second: tuple) -> str:
    """The printf format that renders first[0] from the values first[1], checked on second."""
    for convs in itertools.product(*(CONVERSIONS[k] for k in kinds)):
        fmt = build_format(first[0], first[1], convs)
        if fmt is not None and fill(fmt, second[1]) == second[0]:
            return fmt
    raise GenerationError(f"{what}: cannot read {first[0]!r} as a message with arguments {first[1]} "
                          f"({kinds}); the C client passes exactly these")


def template(what: str, kinds: str, probe) -> tuple[str, int, Outcome]:
    """probe(variant) -> (Outcome, values): one message shown with two sets of values."""
    (o0, v0), (o1, v1) = probe(0), probe(1)
    for o in (o0, o1):
        need(o.clean and o.stdout == "" and o.stderr and o.code != 0,
             f"{what}: expected a message on stderr and a failing exit, got {o}")
    need(o0.code == o1.code, f"{what}: exit codes {o0.code} and {o1.code} differ")
    return format_of(what, kinds, (o0.stderr, v0), (o1.stderr, v1)), o0.code, o0
