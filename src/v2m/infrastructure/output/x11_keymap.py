"""Making every character of a text typeable by xdotool in X11 apps.

xdotool types a character missing from the keymap by binding it to a
scratch keycode, pressing it and unbinding it at once; apps look the key up
lazily (xterm often after the unbinding) and drop or swap the character. So
before typing, each character the text needs that the keymap lacks is bound
to a spare keycode with `xmodmap` (two per keycode: plain and Shift), and
left bound: the next text finds it there, and the keycodes we bound are
reused when the spare ones run out. A text with more such characters than
there are slots is typed in segments, with a pause between them, so that the
app has read one segment's keys before their keycodes are bound anew.
"""

from __future__ import annotations

import re
import threading
from typing import Iterator

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.desktop_tools import run

_HEX = re.compile(r"0x[0-9a-fA-F]+")
_lock = threading.Lock()
_ours: set[int] = set()   # keycodes this process has bound
PAUSE_BETWEEN_SEGMENTS_S = 0.3


def keysym(char: str) -> int | None:
    """The keysym xdotool looks for (X's U+ rule: Latin-1 as itself, the rest
    0x01000000 + code point); None for characters it types by other means."""
    code = ord(char)
    if char in "\n\t" or code < 0x20 or 0x7f <= code < 0xa0:
        return None
    return code if code < 0x100 else 0x01000000 | code


def read_keymap() -> dict[int, list[int]]:
    """{keycode: keysyms} from `xmodmap -pk`."""
    keymap: dict[int, list[int]] = {}
    for line in run(["xmodmap", "-pk"], capture=True, timeout_s=5.0).text.splitlines():
        fields = line.split()
        if fields and fields[0].isdigit():
            keymap[int(fields[0])] = [int(h, 16) for h in _HEX.findall(line) if int(h, 16)]
    return keymap


def _plan(text: str, keymap: dict[int, list[int]]) -> tuple[str, dict[int, list[int]]]:
    """The longest head of `text` whose missing keysyms fit the slots, and
    {keycode: keysyms} to bind for it (only slots that change)."""
    native = {sym for code, syms in keymap.items() if code not in _ours for sym in syms}
    slots = [c for c, syms in sorted(keymap.items()) if c > 8 and not syms and c not in _ours] + sorted(_ours)
    needed: list[int] = []
    end = len(text)
    for i, char in enumerate(text):
        sym = keysym(char)
        if sym is None or sym in native or sym in needed:
            continue
        if len(needed) == 2 * len(slots):
            end = i
            break
        needed.append(sym)
    binding: dict[int, list[int]] = {}
    rest = list(needed)
    for code in slots:  # keep what is bound already where it is
        held = keymap.get(code, [])
        if code in _ours and held and all(sym in rest for sym in held):
            binding[code] = held
            rest = [s for s in rest if s not in held]
    for code in slots:
        if code not in binding and rest:
            binding[code], rest = rest[:2], rest[2:]
    return text[:end], {c: syms for c, syms in binding.items() if keymap.get(c, []) != syms}


def _name(sym: int) -> str:
    return f"U{sym & 0xFFFFFF:04X}"


def segments(text: str) -> Iterator[str]:
    """Yield `text` in segments, each ready to type: its characters bound.
    The caller types each segment before asking for the next."""
    with _lock:
        while text:
            head, changes = _plan(text, read_keymap())
            if not head:
                raise OutputError("no spare keycode left to bind a character to (xmodmap -pk)")
            if changes:
                exprs = [f"keycode {c} = " + " ".join(_name(s) for s in syms) for c, syms in changes.items()]
                run(["xmodmap", *[a for e in exprs for a in ("-e", e)]], timeout_s=5.0)
                _ours.update(changes)
            yield head
            text = text[len(head):]
            if text:
                threading.Event().wait(PAUSE_BETWEEN_SEGMENTS_S)
